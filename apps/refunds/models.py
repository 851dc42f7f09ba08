from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class RefundCase(MerchantOwned):
    """售后: one request to give back money for (part of) a paid order, and its way through review,
    the provider's refund and the provider's confirmation.

    ``idempotency_key`` is the merchant refund number sent to the provider: the provider executes
    one refund per key, and its notification names the case by it.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        REFUNDING = "refunding", _("Refunding")
        REFUNDED = "refunded", _("Refunded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        ORDER = "order", _("Whole order")
        LINE = "line", _("One item")
        QUANTITY = "quantity", _("Part of an item's quantity")
        AMOUNT = "amount", _("An amount")
        # Money that arrived for an order already cancelled (Payment.Status.REFUND_REQUIRED).
        UNCLAIMED_PAYMENT = "unclaimed_payment", _("Payment for a closed order")

    class SupplyBorneBy(models.TextChoices):
        # A defective or wrong item: the supplier gives back its share of the refunded lines.
        SUPPLIER = "supplier", _("The supplier (its share is taken back)")
        # The merchant's own decision (goodwill, its pricing): the supplier keeps its share.
        MERCHANT = "merchant", _("The store (the supplier keeps its share)")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.REFUNDING)
    # Cases whose amounts count against what is still refundable.
    HOLDING_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.REFUNDING, Status.REFUNDED)

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="refund_cases",
        verbose_name=_("order"),
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        related_name="refund_cases",
        verbose_name=_("payment"),
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="refund_cases",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.REQUESTED)
    reason = models.CharField(_("reason"), max_length=255)
    merchant_reason = models.CharField(_("merchant's reason"), max_length=255, blank=True)
    return_goods = models.BooleanField(_("goods returned"), default=False)
    # Who bears the refund of supplied lines (一件代发); the merchant decides when approving.
    supply_borne_by = models.CharField(
        _("supplied goods' refund borne by"),
        max_length=16,
        choices=SupplyBorneBy,
        default=SupplyBorneBy.SUPPLIER,
    )
    goods_amount = models.DecimalField(_("goods amount"), max_digits=12, decimal_places=2)
    shipping_amount = models.DecimalField(
        _("shipping refunded"), max_digits=12, decimal_places=2, default=0
    )
    amount = models.DecimalField(_("refund amount"), max_digits=12, decimal_places=2)
    platform_fee_share = models.DecimalField(
        _("platform fee returned"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    provider = models.CharField(_("provider"), max_length=32)
    idempotency_key = models.CharField(_("refund number"), max_length=64)
    provider_refund_no = models.CharField(_("provider refund number"), max_length=64, blank=True)
    stock_returned = models.BooleanField(_("stock returned"), default=False)
    failure_reason = models.CharField(_("failure"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund case")
        verbose_name_plural = _("refund cases")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="refund_case_key_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, goods_amount__gte=0, shipping_amount__gte=0)
                & models.Q(amount=models.F("goods_amount") + models.F("shipping_amount")),
                name="refund_case_amounts",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-id"], name="refund_case_status"),
            models.Index(fields=["order", "status"], name="refund_case_order"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RefundCaseLine(MerchantOwned):
    """The part of one order line a case refunds: ``quantity`` units (0 for an amount only) and
    ``amount`` of the line's paid amount."""

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="refund_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "order_line"], name="refund_line_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}: {self.amount}"


class RefundStatusChange(MerchantOwned):
    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund status change")
        verbose_name_plural = _("refund status changes")
        ordering = ["id"]
