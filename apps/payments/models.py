from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class Payment(MerchantOwned):
    """One attempt to collect an order's payable amount through a provider.

    The split (分账) is recorded when the provider confirms the payment: the platform's fee and the
    merchant's share before commission; commission is settled later, when the order completes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        # The order was cancelled or expired before any money arrived; the provider's checkout is
        # closed (with a real provider, this is where its close-order API is called).
        CLOSED = "closed", _("Closed")
        # The money arrived after the order had been closed: it must be refunded, not kept.
        REFUND_REQUIRED = "refund_required", _("Refund required")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("provider"), max_length=32)
    out_trade_no = models.CharField(_("merchant trade number"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    provider_trade_no = models.CharField(_("provider trade number"), max_length=64, blank=True)
    platform_fee = models.DecimalField(
        _("platform fee"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    merchant_net = models.DecimalField(
        _("merchant share"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="succeeded"),
                name="payment_one_success_per_order",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="pending"),
                name="payment_one_pending_per_order",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class SandboxPayout(models.Model):
    """The sandbox provider's own record of the payouts it made (its side of the books, as a real
    provider keeps one). One row per idempotency key: a payout asked for again returns this row's
    result instead of paying twice."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    withdrawal_reference = models.CharField(_("withdrawal reference"), max_length=64)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    account = models.CharField(_("account"), max_length=64)
    succeeded = models.BooleanField(_("succeeded"))
    reference = models.CharField(_("payout reference"), max_length=64, unique=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox payout")
        verbose_name_plural = _("sandbox payouts")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.reference
