from django.contrib import admin

from apps.core.admin import MerchantScopedAdmin, ReadOnlyAdminMixin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Payments are written by the provider notifications only."""

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
