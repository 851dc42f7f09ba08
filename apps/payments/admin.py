from django.contrib import admin
from django.db.models import QuerySet

from apps.core.admin import ReadOnlyAdminMixin
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from .models import Payment, PaymentSplit


class PaymentSplitInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    """The payment's split (分账): who received what, and whether the provider has done it."""

    model = PaymentSplit
    extra = 0
    can_delete = False
    fields = (
        "receiver",
        "distributor",
        "amount",
        "status",
        "idempotency_key",
        "provider_reference",
        "failure_reason",
        "done_at",
    )
    readonly_fields = fields

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("distributor__user").order_by("id")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Payments are written by the provider notifications only. The change list links to the
    finance reports (templates/admin/payments/payment/change_list.html). Refunds, above payments,
    registers this admin again with its action (``apps.refunds.admin.PaymentRefundAdmin``)."""

    list_display = (
        "out_trade_no",
        "order",
        "provider",
        "amount",
        "status",
        "platform_fee",
        "merchant_net",
        "created_at",
        "succeeded_at",
    )
    list_filter = ("status", "provider", "created_at")
    search_fields = ("out_trade_no", "provider_trade_no", "order__number")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = [PaymentSplitInline]
