from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

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
    finance reports (templates/admin/payments/payment/change_list.html)."""

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
    actions = ("refund_unclaimed",)

    @admin.action(description=gettext_lazy("Refund payments received for closed orders"))
    def refund_unclaimed(self, request, queryset):  # type: ignore[no-untyped-def]
        """Money that arrived after its order was closed goes back in full through the provider."""
        from apps.refunds.services import payment_refund_unclaimed

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
