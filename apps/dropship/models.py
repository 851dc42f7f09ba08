"""Drop-shipping (一件代发): an order's parcels, one per supplier and one for the store's own goods.

Shipments are made when the order is paid; each is shipped by whoever holds its goods (the
supplier in its back office, the store in its own), and the order is shipped once all of them are.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned
from apps.orders.models import Order, OrderLine
from apps.suppliers.models import Supplier, SupplyProduct


class Shipment(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("To ship")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="shipments", verbose_name=_("order")
    )
    # None: the store's own goods, shipped by the store.
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("supplier"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "supplier"],
                name="shipment_one_per_supplier",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~models.Q(status="shipped")
                | (~models.Q(carrier="") & ~models.Q(tracking_number="")),
                name="shipment_shipped_has_tracking",
            ),
        ]
        indexes = [models.Index(fields=["supplier", "status", "-id"], name="shipment_supplier")]

    def __str__(self) -> str:
        return f"{self.order.number} / {self.supplier or _('own goods')}"


class ShipmentLine(MerchantOwned):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.OneToOneField(
        OrderLine, on_delete=models.CASCADE, related_name="shipment_line"
    )

    class Meta:
        verbose_name = _("shipment line")
        ordering = ["id"]


class CatalogueProduct(SupplyProduct):
    """The supply catalogue as merchants browse it (a read-only view of the suppliers' products)."""

    class Meta:
        proxy = True
        verbose_name = _("supply catalogue product")
        verbose_name_plural = _("supply catalogue")


class SupplierShipment(Shipment):
    """A shipment as its supplier sees it in the supplier back office."""

    class Meta:
        proxy = True
        verbose_name = _("shipment to send")
        verbose_name_plural = _("shipments to send")


class SupplyShare(MerchantOwned):
    """What the supplier is owed for one supplied order line: its supply price × quantity, owed
    from the payment on (``apps.dropship.supply_money``). Frozen until the after-sale window after
    completion closes with no refund case open on the line, then released to the supplier's
    available balance; a refund the supplier bears takes back its pro-rata part
    (``reversed_amount``), from the frozen balance or the available one. The ledger holds the
    money (supplier_* accounts); this row holds the state."""

    class Status(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        RELEASED = "released", _("Released")
        CANCELLED = "cancelled", _("Cancelled (refunded in full)")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="supply_shares", verbose_name=_("order")
    )
    order_line = models.OneToOneField(
        OrderLine,
        on_delete=models.PROTECT,
        related_name="supply_share",
        verbose_name=_("order line"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="shares", verbose_name=_("supplier")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reversed_amount = models.DecimalField(
        _("taken back"), max_digits=12, decimal_places=2, default=0
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.FROZEN)
    # Set when the order completes: the end of its after-sale window.
    release_at = models.DateTimeField(_("releases at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("owed since"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier's share")
        verbose_name_plural = _("supplier's shares")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, reversed_amount__gte=0)
                & models.Q(reversed_amount__lte=models.F("amount")),
                name="supply_share_amounts",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "release_at"], name="supply_share_release_due"),
            models.Index(fields=["supplier", "-id"], name="supply_share_by_supplier"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: ¥{self.amount}"

    @property
    def kept(self):  # type: ignore[no-untyped-def]
        return self.amount - self.reversed_amount


class SupplierPayable(SupplyShare):
    """The supplier's shares as the store reads them in its back office: what its sales owe each
    supplier, frozen, releasable, released and taken back (a read-only view)."""

    class Meta:
        proxy = True
        verbose_name = _("owed to a supplier")
        verbose_name_plural = _("owed to suppliers")


class SupplyShareReversal(MerchantOwned):
    """The part of a supplier's share one refund case took back (the supplier bore the refund)."""

    share = models.ForeignKey(SupplyShare, on_delete=models.PROTECT, related_name="reversals")
    refund_case = models.ForeignKey(
        "refunds.RefundCase", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    from_status = models.CharField(_("taken from"), max_length=16)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier's share taken back")
        verbose_name_plural = _("supplier's shares taken back")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["share", "refund_case"], name="supply_reversal_once_per_refund"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="supply_reversal_positive"
            ),
        ]
