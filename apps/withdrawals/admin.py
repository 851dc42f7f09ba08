"""Withdrawals in the back office: the merchant's rules (edited through the settings service), and
the queue, where staff approve or reject (with a reason). Amounts, status and history are never
edited by hand.

A failed payout is not retried from here: its money is already back in the distributor's available
balance, and the distributor asks again (perhaps with a corrected account)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import Withdrawal, WithdrawalSettings, WithdrawalStatusChange
from .services import (
    MAX_REASON_LENGTH,
    SETTINGS_FIELDS,
    withdrawal_approve,
    withdrawal_reject,
    withdrawal_settings_update,
)


@admin.register(WithdrawalSettings)
class WithdrawalSettingsAdmin(MerchantScopedAdmin):
    """One row per merchant; without one the defaults apply. Saved by
    ``withdrawal_settings_update``, which checks the settings together with the row locked."""

    list_display = (
        "__str__",
        "minimum_amount",
        "fee_percent",
        "fee_free_amount",
        "tax_percent",
        "tax_threshold",
        "review_required",
        "payout_provider",
        "updated_at",
    )
    list_select_related = ("merchant",)
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if not super().has_add_permission(request):
            return False
        if request.user.is_superuser:
            return True
        return not WithdrawalSettings.objects.filter(merchant=request_merchant(request)).exists()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
        names = form.changed_data if change else list(form.cleaned_data)
        fields = {name: form.cleaned_data[name] for name in names if name in SETTINGS_FIELDS}
        saved = withdrawal_settings_update(merchant=merchant, **fields)
        obj.pk, obj.merchant_id = saved.pk, saved.merchant_id


class WithdrawalStatusChangeInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = WithdrawalStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("status history")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("actor")


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the distributor)"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "id",
        "created_at",
        "distributor",
        "supplier",
        "amount",
        "fee",
        "tax",
        "net",
        "status",
        "payout_account",
        "reviewer",
        "finished_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("distributor__invite_code", "distributor__user__username", "payout_account")
    list_select_related = ("distributor__user", "supplier", "reviewer")
    date_hierarchy = "created_at"
    fields = (
        "distributor",
        "supplier",
        "status",
        "reason",
        "amount",
        "fee",
        "tax",
        "net",
        "payout_provider",
        "payout_account",
        "idempotency_key",
        "provider_reference",
        "reviewer",
        "created_at",
        "reviewed_at",
        "paying_since",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (WithdrawalStatusChangeInline,)
    actions = ("approve_withdrawals",)
    change_form_template = "admin/withdrawals/withdrawal/change_form.html"

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="withdrawals_withdrawal_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="withdrawals_withdrawal_reject",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        original = context.get("original")
        context["can_review"] = (
            original is not None and original.status == Withdrawal.Status.REQUESTED
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def _reviewable(self, request: HttpRequest, object_id: str) -> Withdrawal:
        """The withdrawal if the caller may review it; another merchant's is a 404."""
        return self.get_object(request, unquote(object_id))

    def _change_url(self, withdrawal: Withdrawal) -> str:
        return reverse("admin:withdrawals_withdrawal_change", args=[withdrawal.pk])

    def approve_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        withdrawal = self._reviewable(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._approve(request, [withdrawal])
        return redirect(self._change_url(withdrawal))

    def reject_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        withdrawal = self._reviewable(request, object_id)
        status = 200
        if request.method == "POST":
            form = RejectForm(request.POST)
            if form.is_valid():
                try:
                    withdrawal_reject(
                        merchant=withdrawal.merchant,
                        withdrawal_id=withdrawal.pk,
                        actor=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as error:
                    form.add_error(None, error.message)
                    status = error.status
                else:
                    self.message_user(
                        request,
                        _("Withdrawal #%(id)d rejected; the money is back in the balance.")
                        % {"id": withdrawal.pk},
                        messages.SUCCESS,
                    )
                    return redirect(self._change_url(withdrawal))
            else:
                status = 400
        else:
            form = RejectForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject withdrawal #%(id)d") % {"id": withdrawal.pk},
            "opts": self.opts,
            "original": withdrawal,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/withdrawals/withdrawal/reject.html", context, status=status
        )

    def _approve(self, request: HttpRequest, withdrawals: list[Withdrawal]) -> int:
        approved = 0
        for withdrawal in withdrawals:
            try:
                withdrawal_approve(
                    merchant=withdrawal.merchant,
                    withdrawal_id=withdrawal.pk,
                    actor=request.user,  # type: ignore[arg-type]
                )
            except DomainError as error:
                self.message_user(request, f"#{withdrawal.pk}: {error.message}", messages.ERROR)
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                _("%(count)d withdrawal(s) approved; the payouts are on their way.")
                % {"count": approved},
                messages.SUCCESS,
            )
        return approved

    @admin.action(description=gettext_lazy("Approve selected withdrawals"))
    def approve_withdrawals(self, request, queryset):  # type: ignore[no-untyped-def]
        self._approve(request, list(queryset.select_related("merchant").order_by("pk")))
