"""The operator's console for merchants: onboarding review, fees, status and staff."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.accounts.models import USER_PHONE
from apps.core import events
from apps.core.admin import OperatorOnlyAdmin, PhoneSearchMixin, SaveRefused
from apps.core.errors import DomainError

from .events import MerchantTakeChanged
from .models import Merchant, MerchantApplication, MerchantStaff
from .services import (
    merchant_application_approve,
    merchant_application_reject,
    merchant_set_status,
    merchant_staff_add,
    merchant_staff_update,
)


@admin.register(Merchant)
class MerchantAdmin(OperatorOnlyAdmin):
    """Merchants are created by approving an application (which also makes the owner staff and gives
    the store its commission plan), so there is no "add" here; they are suspended, never deleted."""

    list_display = ("name", "slug", "status", "platform_fee_percent", "contact_email", "created_at")
    list_filter = ("status", "created_at")
    search_fields = ("name", "slug", "contact_email")
    readonly_fields = ("slug", "created_at")
    fields = (
        "name",
        "slug",
        "status",
        "platform_fee_percent",
        "staff_two_factor_required",
        "contact_email",
        "description",
        "created_at",
    )
    actions = ("suspend_merchants", "activate_merchants")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """The status goes through ``merchant_set_status``; the other fields the form changed are
        written alone, so a stale form never puts back a status changed meanwhile."""
        fields = [name for name in form.changed_data if name in self.fields and name != "status"]
        if fields:
            obj.save(update_fields=fields)
        if "platform_fee_percent" in fields:
            events.publish(MerchantTakeChanged(merchant_id=obj.pk))
        if "status" in form.changed_data:
            try:
                merchant_set_status(merchant_id=obj.pk, status=form.cleaned_data["status"])
            except DomainError as error:
                # rolled back with the other fields and shown on the form (RefusableSavesMixin)
                raise SaveRefused(error.message, field="status") from error

    def _set_status(self, request: HttpRequest, merchant: Merchant, status: str) -> bool:
        """For the bulk actions: a refusal is an error message naming the merchant."""
        try:
            return merchant_set_status(merchant_id=merchant.pk, status=status)
        except DomainError as error:
            self.message_user(request, f"{merchant.name}: {error.message}", messages.ERROR)
            return False

    def _set_statuses(self, request, queryset, status: str) -> int:  # type: ignore[no-untyped-def]
        merchants = queryset.exclude(status=status).order_by("pk")
        return sum(self._set_status(request, merchant, status) for merchant in merchants)

    @admin.action(description=gettext_lazy("Suspend selected merchants"))
    def suspend_merchants(self, request, queryset):  # type: ignore[no-untyped-def]
        count = self._set_statuses(request, queryset, Merchant.Status.SUSPENDED)
        self.message_user(request, _("%(count)d merchant(s) suspended.") % {"count": count})

    @admin.action(description=gettext_lazy("Activate selected merchants"))
    def activate_merchants(self, request, queryset):  # type: ignore[no-untyped-def]
        count = self._set_statuses(request, queryset, Merchant.Status.ACTIVE)
        self.message_user(request, _("%(count)d merchant(s) activated.") % {"count": count})


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the applicant)"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(OperatorOnlyAdmin):
    """商家入驻 review. Applications come from the public form; the operator approves (creating the
    merchant, its owner's staff membership and commission plan) or rejects with a reason."""

    list_display = (
        "store_name",
        "slug",
        "applicant",
        "contact_name",
        "contact_phone",
        "status",
        "created_at",
        "reviewed_by",
    )
    list_filter = ("status", "created_at")
    search_fields = (
        "store_name",
        "slug",
        "contact_name",
        "contact_phone",
        "contact_email",
        "applicant__username",
    )
    list_select_related = ("applicant", "reviewed_by")
    review_fields = ("status", "reject_reason", "reviewed_by", "reviewed_at", "merchant")
    readonly_fields = ("applicant", *review_fields, "created_at")
    actions = ("approve_applications", "reject_applications")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.status != MerchantApplication.Status.PENDING:
            return [field.name for field in self.model._meta.fields if field.name != "id"]
        return super().get_readonly_fields(request, obj)

    def get_urls(self):  # type: ignore[no-untyped-def]
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(require_POST(self.approve_view)),
                name=f"{info[0]}_{info[1]}_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name=f"{info[0]}_{info[1]}_reject",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, application: MerchantApplication) -> str:
        return reverse("admin:merchants_merchantapplication_change", args=[application.pk])

    def _approve(self, request: HttpRequest, application: MerchantApplication) -> bool:
        try:
            merchant = merchant_application_approve(
                application_id=application.pk,
                reviewer=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            self.message_user(request, f"{application.store_name}: {error.message}", messages.ERROR)
            return False
        self.message_user(
            request,
            _(
                "%(store)s approved: merchant “%(slug)s” is open and %(user)s can sign in to "
                "the back office."
            )
            % {
                "store": merchant.name,
                "slug": merchant.slug,
                "user": application.applicant.username,
            },
            messages.SUCCESS,
        )
        return True

    def _reject(self, request: HttpRequest, application: MerchantApplication, reason: str) -> bool:
        try:
            merchant_application_reject(
                application_id=application.pk,
                reviewer=request.user,  # type: ignore[arg-type]
                reason=reason,
            )
        except DomainError as error:
            self.message_user(request, f"{application.store_name}: {error.message}", messages.ERROR)
            return False
        self.message_user(
            request, _("%(store)s rejected.") % {"store": application.store_name}, messages.SUCCESS
        )
        return True

    def approve_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        application = self.get_object(request, unquote(object_id))
        self._approve(request, application)
        return redirect(self._change_url(application))

    def reject_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        application = self.get_object(request, unquote(object_id))
        form = RejectForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            self._reject(request, application, form.cleaned_data["reason"])
            return redirect(self._change_url(application))
        return self._render_reject(request, [application], form, action=None)

    def _render_reject(self, request, applications, form, action):  # type: ignore[no-untyped-def]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject applications"),
            "opts": self.opts,
            "applications": applications,
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/merchants/merchantapplication/reject.html", context)

    @admin.action(description=gettext_lazy("Approve selected applications"))
    def approve_applications(self, request, queryset):  # type: ignore[no-untyped-def]
        for application in queryset.select_related("applicant").order_by("pk"):
            self._approve(request, application)

    @admin.action(description=gettext_lazy("Reject selected applications…"))
    def reject_applications(self, request, queryset):  # type: ignore[no-untyped-def]
        applications = list(queryset.order_by("pk"))
        if "post" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                for application in applications:
                    self._reject(request, application, form.cleaned_data["reason"])
                return HttpResponseRedirect(request.get_full_path())
        else:
            form = RejectForm()
        return self._render_reject(request, applications, form, action="reject_applications")


@admin.register(MerchantStaff)
class MerchantStaffAdmin(PhoneSearchMixin, OperatorOnlyAdmin):
    list_display = ("user", "merchant", "role", "created_at")
    list_filter = ("role", "merchant")
    search_fields = ("user__username", "merchant__name", "merchant__slug")
    phone_search = (("user__phone_index", USER_PHONE),)
    list_select_related = ("user", "merchant")
    autocomplete_fields = ("user", "merchant")
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # refused: a form error, nothing saved, logged or reported (RefusableSavesMixin)
        if not change:
            membership = merchant_staff_add(merchant=obj.merchant, user=obj.user, role=obj.role)
            obj.pk, obj.created_at = membership.pk, membership.created_at
            obj._state.adding = False
            return
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in ("merchant", "user", "role")
        }
        if fields:
            merchant_staff_update(staff_id=obj.pk, **fields)
