"""The distributor programme in the back office: settings, tiers with their conditions, application
review, appointing distributors, tier and binding history, fraud flags.

Every write goes through the services (recruitment, tiers, guards); a refusal is a form error or an
error message, never a half-written row.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import USER_PHONE
from apps.core.admin import PhoneSearchMixin, ReadOnlyAdminMixin, SaveRefused
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .guards import fraud_flag_dismiss, fraud_flag_suspend
from .models import (
    BindingChange,
    DistributorApplication,
    FraudFlag,
    ProgrammeSettings,
    Tier,
    TierChange,
    TierCondition,
)
from .recruitment import (
    application_approve,
    application_questions_parse,
    application_reject,
    distributor_appoint,
    programme_settings_validate,
    user_find_for_appointment,
)

# --- Programme settings -----------------------------------------------------------------------


class ProgrammeSettingsForm(forms.ModelForm):
    questions_text = forms.CharField(
        label=gettext_lazy("application questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Application mode: one question per line."),
    )

    class Meta:
        model = ProgrammeSettings
        fields = (
            "recruitment_mode",
            "spend_threshold",
            "binding_mode",
            "binding_days",
            "binding_new_customers_only",
            "self_purchase_commission",
            "agency_enabled",
            "refund_rate_threshold",
            "refund_rate_days",
        )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["questions_text"].initial = "\n".join(self.instance.application_questions or [])

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        try:
            self.instance.application_questions = application_questions_parse(
                cleaned.get("questions_text", "")
            )
        except DomainError as error:
            self.add_error("questions_text", error.message)
            return cleaned
        candidate = ProgrammeSettings(
            recruitment_mode=cleaned.get("recruitment_mode"),
            spend_threshold=cleaned.get("spend_threshold"),
            binding_days=cleaned.get("binding_days") or 1,
            application_questions=self.instance.application_questions,
            refund_rate_threshold=cleaned.get("refund_rate_threshold"),
            refund_rate_days=cleaned.get("refund_rate_days") or 30,
        )
        try:
            programme_settings_validate(candidate)
        except DomainError as error:
            field = {
                "spend_threshold_required": "spend_threshold",
                "invalid_refund_rate_threshold": "refund_rate_threshold",
                "invalid_refund_rate_days": "refund_rate_days",
            }.get(error.code)
            self.add_error(field, error.message)
        if (
            cleaned.get("recruitment_mode") == ProgrammeSettings.RecruitmentMode.APPLICATION
            and not self.instance.application_questions
        ):
            self.add_error("questions_text", _("Application mode needs at least one question."))
        return cleaned


class AppointForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("username or phone"),
        max_length=150,
        help_text=gettext_lazy("Exactly as the person signed up."),
    )
    invite_code = forms.CharField(
        label=gettext_lazy("inviter's code"),
        max_length=16,
        required=False,
        help_text=gettext_lazy("Optional: place them under this distributor."),
    )


@admin.register(ProgrammeSettings)
class ProgrammeSettingsAdmin(MerchantScopedAdmin):
    form = ProgrammeSettingsForm
    list_display = ("__str__", "recruitment_mode", "binding_mode", "updated_at")
    fieldsets = (
        (
            gettext_lazy("Recruitment"),
            {"fields": ("recruitment_mode", "spend_threshold", "questions_text")},
        ),
        (
            gettext_lazy("Customer binding"),
            {"fields": ("binding_mode", "binding_days", "binding_new_customers_only")},
        ),
        (gettext_lazy("Earning"), {"fields": ("self_purchase_commission", "agency_enabled")}),
        (
            gettext_lazy("Fraud review"),
            {"fields": ("refund_rate_threshold", "refund_rate_days")},
        ),
    )

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        fieldsets = list(super().get_fieldsets(request, obj))
        if request.user.is_superuser and obj is None:
            fieldsets.insert(0, (None, {"fields": ("merchant",)}))
        return fieldsets

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [
            field
            for _name, options in self.get_fieldsets(request, obj)
            for field in options["fields"]
        ]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if not super().has_add_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        return not ProgrammeSettings.objects.filter(merchant=request_merchant(request)).exists()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "appoint/",
                self.admin_site.admin_view(self.appoint_view),
                name="distributors_appoint",
            ),
            *super().get_urls(),
        ]

    def appoint_view(self, request):  # type: ignore[no-untyped-def]
        """指定: make a user a distributor of the staff member's merchant."""
        merchant = request_merchant(request)
        if merchant is None:
            raise PermissionDenied
        form = AppointForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user = user_find_for_appointment(lookup=form.cleaned_data["user"])
                distributor = distributor_appoint(
                    merchant=merchant, user=user, invite_code=form.cleaned_data["invite_code"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("%(user)s is now a distributor (invite code %(code)s).")
                    % {"user": user.display_name, "code": distributor.invite_code},
                )
                return HttpResponseRedirect(
                    reverse("admin:distributors_distributor_changelist")
                    + "?qualification__exact=appointed"
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Appoint a distributor"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/distributors/appoint.html", context)


# --- Tiers ------------------------------------------------------------------------------------


class TierConditionInline(MerchantScopedTabularInline):
    model = TierCondition
    extra = 1
    fields = ("purpose", "metric", "threshold", "period_days")


@admin.register(Tier)
class TierAdmin(MerchantScopedAdmin):
    inlines = (TierConditionInline,)
    list_display = (
        "name",
        "rank",
        "level1_percent",
        "level2_percent",
        "level3_percent",
        "upgrade_combinator",
        "keep_combinator",
    )
    ordering = ("rank",)
    fields = (
        "name",
        "rank",
        "level1_percent",
        "level2_percent",
        "level3_percent",
        "upgrade_combinator",
        "keep_combinator",
    )


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("distributor", "from_tier", "to_tier", "reason", "created_at")
    list_filter = ("to_tier", "created_at")
    search_fields = ("distributor__invite_code", "distributor__user__username")
    list_select_related = ("distributor__user", "from_tier", "to_tier")


@admin.register(BindingChange)
class BindingChangeAdmin(ReadOnlyAdminMixin, PhoneSearchMixin, MerchantScopedAdmin):
    list_display = ("customer", "from_distributor", "to_distributor", "reason", "created_at")
    list_filter = ("reason", "created_at")
    search_fields = ("customer__username", "to_distributor__invite_code")
    phone_search = (("customer__phone_index", USER_PHONE),)
    list_select_related = ("customer", "from_distributor__user", "to_distributor__user")


# --- Applications -----------------------------------------------------------------------------


class ApplicationReviewForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label=gettext_lazy("decision"),
        choices=(
            ("", "---------"),
            ("approve", gettext_lazy("Approve")),
            ("reject", gettext_lazy("Reject")),
        ),
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("reason for rejection"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Shown to the applicant."),
    )

    class Meta:
        model = DistributorApplication
        fields: tuple[str, ...] = ()

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Please give a reason for the rejection."))
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason for rejection"), max_length=255)


@admin.register(DistributorApplication)
class DistributorApplicationAdmin(PhoneSearchMixin, MerchantScopedAdmin):
    form = ApplicationReviewForm
    list_display = ("user", "status", "invite_code", "created_at", "reviewed_at")
    list_filter = ("status", "created_at")
    search_fields = ("user__username", "invite_code")
    phone_search = (("user__phone_index", USER_PHONE),)
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "status",
        "invite_code",
        "answers_display",
        "reject_reason",
        "reviewed_by",
        "reviewed_at",
        "distributor",
        "created_at",
    )
    actions = ("approve_applications", "reject_applications")

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(self.readonly_fields)
        if obj is not None and obj.status == DistributorApplication.Status.PENDING:
            fields += ["decision", "reason"]
        return fields

    @admin.display(description=gettext_lazy("answers"))
    def answers_display(self, application: DistributorApplication) -> str:
        return "\n".join(
            f"{item.get('question', '')}: {item.get('answer', '')}"
            for item in application.answers or []
        )

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        decision = form.cleaned_data.get("decision")
        if decision == "approve":
            application_approve(application=obj, reviewer=request.user)
        elif decision == "reject":
            try:
                application_reject(
                    application=obj, reviewer=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                raise SaveRefused(error.message, field="reason") from error

    @admin.action(description=gettext_lazy("Approve selected applications"))
    def approve_applications(self, request, queryset):  # type: ignore[no-untyped-def]
        approved = 0
        for application in queryset.filter(status=DistributorApplication.Status.PENDING).order_by(
            "pk"
        ):
            try:
                application_approve(application=application, reviewer=request.user)
            except DomainError as error:
                self.message_user(request, f"{application}: {error.message}", messages.WARNING)
            else:
                approved += 1
        self.message_user(request, _("%(count)d application(s) approved.") % {"count": approved})

    @admin.action(description=gettext_lazy("Reject selected applications…"))
    def reject_applications(self, request, queryset):  # type: ignore[no-untyped-def]
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            rejected = 0
            for application in queryset.filter(
                status=DistributorApplication.Status.PENDING
            ).order_by("pk"):
                try:
                    application_reject(
                        application=application,
                        reviewer=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as error:
                    self.message_user(request, f"{application}: {error.message}", messages.WARNING)
                else:
                    rejected += 1
            self.message_user(
                request, _("%(count)d application(s) rejected.") % {"count": rejected}
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject applications"),
            "form": form,
            "applications": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/distributors/reject_applications.html", context)


# --- Fraud flags ------------------------------------------------------------------------------


@admin.register(FraudFlag)
class FraudFlagAdmin(MerchantScopedAdmin):
    list_display = ("distributor", "kind", "status", "created_at", "detail")
    list_filter = ("status", "kind", "created_at")
    search_fields = ("distributor__invite_code", "distributor__user__username")
    list_select_related = ("distributor__user",)
    fields = ("distributor", "kind", "status", "detail", "reviewed_by", "created_at", "updated_at")
    readonly_fields = fields
    actions = ("dismiss_flags", "suspend_distributors")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def _review(self, request, queryset, service, done: str) -> None:  # type: ignore[no-untyped-def]
        count = 0
        for flag in queryset.filter(status=FraudFlag.Status.OPEN).order_by("pk"):
            try:
                service(flag=flag, reviewer=request.user)
            except DomainError:
                continue  # reviewed meanwhile (e.g. closed with another flag of the distributor)
            count += 1
        self.message_user(request, done % {"count": count})

    @admin.action(description=gettext_lazy("Dismiss selected flags"))
    def dismiss_flags(self, request, queryset):  # type: ignore[no-untyped-def]
        self._review(request, queryset, fraud_flag_dismiss, _("%(count)d flag(s) dismissed."))

    @admin.action(description=gettext_lazy("Suspend the flagged distributors"))
    def suspend_distributors(self, request, queryset):  # type: ignore[no-untyped-def]
        self._review(
            request,
            queryset,
            fraud_flag_suspend,
            _("%(count)d flag(s) actioned: distributors suspended."),
        )
