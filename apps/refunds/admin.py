"""售后 in the back office: cases are read-only; staff approve or reject them with a reason through
the actions (or the buttons on a case), which call the refund services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.payments.admin import PaymentAdmin
from apps.payments.models import Payment
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import RefundCase, RefundCaseLine, RefundStatusChange
from .services import MAX_REASON, payment_refund_unclaimed, refund_approve, refund_reject


class RefundCaseLineInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = RefundCaseLine
    fields = ("order_line", "quantity", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("order_line")


class RefundStatusChangeInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = RefundStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("status history")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("actor")


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=MAX_REASON, required=False, widget=forms.Textarea
    )
    supply_borne_by = forms.ChoiceField(
        label=gettext_lazy("Refund of supplied goods borne by"),
        choices=RefundCase.SupplyBorneBy.choices,
        initial=RefundCase.SupplyBorneBy.SUPPLIER,
        required=False,
        help_text=gettext_lazy(
            "For items shipped by a supplier: the supplier for a defective or wrong item (its "
            "share is taken back), or the store (the supplier keeps its share)."
        ),
    )


@admin.register(RefundCase)
class RefundCaseAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "idempotency_key",
        "order",
        "customer",
        "kind",
        "amount",
        "return_goods",
        "status",
        "created_at",
        "refunded_at",
    )
    list_filter = ("status", "kind", "return_goods", "created_at")
    search_fields = ("idempotency_key", "order__number", "provider_refund_no", "customer__username")
    list_select_related = ("order", "customer")
    date_hierarchy = "created_at"
    fields = (
        "idempotency_key",
        "order",
        "customer",
        "kind",
        "status",
        "reason",
        "return_goods",
        "supply_borne_by",
        "goods_amount",
        "shipping_amount",
        "amount",
        "platform_fee_share",
        "merchant_reason",
        "provider",
        "provider_refund_no",
        "stock_returned",
        "failure_reason",
        "created_at",
        "decided_at",
        "refunded_at",
    )
    readonly_fields = fields
    inlines = (RefundCaseLineInline, RefundStatusChangeInline)
    actions = ("approve_refunds", "reject_refunds")

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="refunds_refundcase_decide",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        original = context.get("original")
        context["can_decide"] = (
            original is not None and original.status == RefundCase.Status.REQUESTED
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def decide_view(self, request: HttpRequest, object_id: str, decision: str):  # type: ignore[no-untyped-def]
        case = self.get_object(request, unquote(object_id))
        if decision not in ("approve", "reject"):
            return redirect(reverse("admin:refunds_refundcase_change", args=[case.pk]))
        return self._decide(request, [case], decision, action=None)

    def _decide(self, request, cases, decision, action):  # type: ignore[no-untyped-def]
        form = DecisionForm(request.POST if "post" in request.POST else None)
        if decision != "approve":
            del form.fields["supply_borne_by"]
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            if decision == "reject" and not reason.strip():
                form.add_error("reason", _("Please give a reason."))
            else:
                borne_by = form.cleaned_data.get("supply_borne_by") or None
                self._apply(request, cases, decision, reason, borne_by)
                if action is None:
                    return redirect(reverse("admin:refunds_refundcase_change", args=[cases[0].pk]))
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Approve refunds") if decision == "approve" else _("Reject refunds"),
            "opts": self.opts,
            "cases": cases,
            "form": form,
            "decision": decision,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/refunds/refundcase/decide.html", context)

    def _apply(self, request, cases, decision, reason, borne_by=None):  # type: ignore[no-untyped-def]
        """Each case on its own: a refusal is reported and does not undo the others."""
        done = 0
        for case in cases:
            merchant = case.merchant if request.user.is_superuser else request_merchant(request)
            try:
                if decision == "approve":
                    refund_approve(
                        merchant=merchant,
                        case_id=case.pk,
                        actor=request.user,
                        reason=reason,
                        supply_borne_by=borne_by,
                    )
                else:
                    refund_reject(
                        merchant=merchant, case_id=case.pk, actor=request.user, reason=reason
                    )
            except DomainError as error:
                self.message_user(
                    request, f"{case.idempotency_key}: {error.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            message = (
                _("%(count)d refund(s) approved.")
                if decision == "approve"
                else _("%(count)d refund(s) rejected.")
            )
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Approve selected refunds…"))
    def approve_refunds(self, request, queryset):  # type: ignore[no-untyped-def]
        cases = list(queryset.select_related("merchant", "order").order_by("pk"))
        return self._decide(request, cases, "approve", action="approve_refunds")

    @admin.action(description=gettext_lazy("Reject selected refunds…"))
    def reject_refunds(self, request, queryset):  # type: ignore[no-untyped-def]
        cases = list(queryset.select_related("merchant", "order").order_by("pk"))
        return self._decide(request, cases, "reject", action="reject_refunds")


class PaymentRefundAdmin(PaymentAdmin):
    """The payments admin with the one refund that starts from a payment: money that arrived for
    an order already closed. Registered here, above payments, in place of ``PaymentAdmin``."""

    actions = ("refund_unclaimed",)

    @admin.action(description=gettext_lazy("Refund payments received for closed orders"))
    def refund_unclaimed(self, request, queryset):  # type: ignore[no-untyped-def]
        """Money that arrived after its order was closed goes back in full through the provider."""
        started = 0
        for payment in queryset.select_related("merchant").order_by("pk"):
            merchant = payment.merchant if request.user.is_superuser else request_merchant(request)
            try:
                payment_refund_unclaimed(
                    merchant=merchant, payment_id=payment.pk, actor=request.user
                )
            except DomainError as error:
                self.message_user(
                    request, f"{payment.out_trade_no}: {error.message}", messages.ERROR
                )
            else:
                started += 1
        if started:
            self.message_user(
                request,
                _("%(count)d refund(s) sent to the provider.") % {"count": started},
                messages.SUCCESS,
            )


admin.site.unregister(Payment)
admin.site.register(Payment, PaymentRefundAdmin)
