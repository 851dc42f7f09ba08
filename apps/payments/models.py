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
        # That money was given back through the provider (apps.refunds).
        REFUNDED = "refunded", _("Refunded")
        # The consumer chose another payment method for the same order: this checkout was closed
        # (at its provider too); money that still arrives for it is refunded automatically.
        SUPERSEDED = "superseded", _("Superseded")

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
    # The consumer's address as the checkout request came (WeChat Pay's H5 order asks for it).
    payer_client_ip = models.GenericIPAddressField(_("payer's IP address"), null=True, blank=True)

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


class PaymentSplit(MerchantOwned):
    """分账: one receiver's share of a succeeded payment, executed through the provider.

    The platform's fee and the distributors' commission together stay within
    ``FENXIAO_SPLIT_MAX_PERCENT`` of what the payment kept (paid less refunded); the merchant gets
    the rest. Commission above the cap is not split: the distributor withdraws it from the
    merchant's share (提现). One row per receiver; its idempotency key is what the provider sees, so
    executing it again never splits twice.
    """

    class Receiver(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        DISTRIBUTOR = "distributor", _("Distributor")
        SUPPLIER = "supplier", _("Supplier")
        MERCHANT = "merchant", _("Merchant")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="splits")
    receiver = models.CharField(_("receiver"), max_length=16, choices=Receiver)
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("distributor"),
    )
    # A supplier's share of its goods sold (一件代发): one more receiver within the cap.
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    idempotency_key = models.CharField(_("idempotency key"), max_length=96, unique=True)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment split")
        verbose_name_plural = _("payment splits")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="split_amount_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(receiver="distributor", distributor__isnull=False)
                    | (~models.Q(receiver="distributor") & models.Q(distributor__isnull=True))
                ),
                name="split_distributor_iff_distributor_receiver",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(receiver="supplier", supplier__isnull=False)
                    | (~models.Q(receiver="supplier") & models.Q(supplier__isnull=True))
                ),
                name="split_supplier_iff_supplier_receiver",
            ),
            models.UniqueConstraint(
                fields=["payment", "receiver", "distributor", "supplier"],
                name="split_once_per_receiver_and_holder",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class PaymentNotificationLog(MerchantOwned):
    """A provider notification that was refused although its signature was good: the provider
    says money moved, the ledger does not agree. Kept for reconciliation (nothing else changes)."""

    class Outcome(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", _("Refused: amount mismatch")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refused_notices")
    provider = models.CharField(_("provider"), max_length=32)
    provider_trade_no = models.CharField(_("provider trade number"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome)
    notified_amount = models.DecimalField(_("notified amount"), max_digits=12, decimal_places=2)
    expected_amount = models.DecimalField(_("expected amount"), max_digits=12, decimal_places=2)
    times_received = models.PositiveIntegerField(_("times received"), default=1)
    first_received_at = models.DateTimeField(_("first received"), auto_now_add=True)
    last_received_at = models.DateTimeField(_("last received"), auto_now=True)

    class Meta:
        verbose_name = _("refused payment notification")
        verbose_name_plural = _("refused payment notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "provider_trade_no", "outcome", "notified_amount"],
                name="notification_log_once_per_notice",
            )
        ]


class SandboxTransaction(MerchantOwned):
    """The sandbox provider's own books: what it did (collected, refunded, split, paid out).

    A real provider's statement (WeChat's 对账单) plays this part; reconciliation matches these rows
    against the ledger by reference and amount.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        SPLIT = "split", _("Split")
        PAYOUT = "payout", _("Payout")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    reference = models.CharField(_("reference"), max_length=96)
    provider_reference = models.CharField(_("provider reference"), max_length=64)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    out_trade_no = models.CharField(_("merchant trade number"), max_length=64, blank=True)
    receiver = models.CharField(_("receiver"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox transaction")
        verbose_name_plural = _("sandbox transactions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "kind", "reference"],
                name="sandbox_transaction_once_per_reference",
            )
        ]


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


class ProviderStatement(MerchantOwned):
    """One day's statement (对账单) of one provider for one merchant, as its ``statement()``
    gave it: downloaded once per (merchant, provider, day) by beat; reconciliation reads its lines
    against the ledger."""

    provider = models.CharField(_("provider"), max_length=32)
    day = models.DateField(_("day"))
    line_count = models.PositiveIntegerField(_("lines"))
    downloaded_at = models.DateTimeField(_("downloaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider statement")
        verbose_name_plural = _("provider statements")
        ordering = ["-day", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "provider", "day"], name="provider_statement_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"


class ProviderStatementLine(MerchantOwned):
    """One line of a stored statement (``providers.base.StatementLine``)."""

    statement = models.ForeignKey(ProviderStatement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=16)
    reference = models.CharField(_("reference"), max_length=96)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2, default=0)
    occurred_at = models.DateTimeField(_("at"))
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    out_trade_no = models.CharField(_("merchant trade number"), max_length=64, blank=True)
    receiver = models.CharField(_("receiver"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("provider statement line")
        verbose_name_plural = _("provider statement lines")
        ordering = ["id"]
        indexes = [models.Index(fields=["merchant", "reference"], name="statement_line_reference")]
