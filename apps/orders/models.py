from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField
from apps.merchants.models import MerchantOwned

# The blind index purpose of ``Order.recipient_phone_index``.
RECIPIENT_PHONE = "order.recipient_phone"


class Cart(MerchantOwned):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="carts"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "customer"], name="cart_one_per_customer")
        ]


class CartItem(MerchantOwned):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("products.Sku", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    # The micro-shop (微店) the item was added from, if any: in agency mode the line is priced at
    # that distributor's resale price in force when the order is placed.
    agency_distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("micro-shop"),
    )

    class Meta:
        verbose_name = _("cart item")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_item_one_per_sku"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="cart_item_quantity_positive"
            ),
        ]


class Order(MerchantOwned):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class CommissionStatus(models.TextChoices):
        NONE = "none", _("No commission")
        PENDING = "pending", _("To settle")
        SETTLED = "settled", _("Settled")

    number = models.CharField(_("order number"), max_length=32)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING_PAYMENT
    )
    goods_amount = models.DecimalField(_("goods amount"), max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, default=0)
    # The channel whose prices the caller gave the pricing pipeline (e.g. a live room), if any.
    price_channel = models.CharField(_("price channel"), max_length=64, blank=True)
    payable_amount = models.DecimalField(_("amount payable"), max_digits=12, decimal_places=2)
    # The upline snapshot taken when the order is placed: later changes to the tree or to the
    # customer's binding never change who is paid for this order.
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("distributor (level 1)"),
    )
    level2_distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level 2"),
    )
    level3_distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level 3"),
    )
    commission_status = models.CharField(
        _("commission"), max_length=16, choices=CommissionStatus, default=CommissionStatus.NONE
    )
    # The live room (商城直播) the order was placed from: set by the live app through placement's
    # ``live_room_id`` input. A string reference: orders never imports live.
    live_room = models.ForeignKey(
        "live.LiveRoom",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("live room"),
    )
    # Personal data, encrypted at rest (apps/core/crypto.py); the phone is found by its blind index.
    recipient_name = EncryptedTextField(_("recipient"))
    recipient_phone = EncryptedTextField(_("phone"))
    recipient_phone_index = models.CharField(
        _("phone index"), max_length=64, blank=True, db_index=True, editable=False
    )
    shipping_address = EncryptedTextField(_("address"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    shipping_carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("pay before"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="order_number_unique"),
            models.CheckConstraint(
                condition=models.Q(payable_amount__gte=0), name="order_payable_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="order_status_expires"),
            models.Index(fields=["status", "shipped_at"], name="order_status_shipped"),
            models.Index(fields=["commission_status", "completed_at"], name="order_commission"),
            models.Index(fields=["merchant", "customer", "-id"], name="order_customer"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def beneficiary_ids(self) -> list[tuple[int, int]]:
        """(level, distributor id) for each level of the snapshot that has a distributor."""
        chain = (self.distributor_id, self.level2_distributor_id, self.level3_distributor_id)
        return [(level, pk) for level, pk in enumerate(chain, start=1) if pk is not None]


class OrderLine(MerchantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("products.Sku", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(_("product"), max_length=120)
    sku_name = models.CharField(_("SKU"), max_length=120)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    # What the consumer actually pays for this line, after discounts and without shipping: the
    # commission base.
    paid_amount = models.DecimalField(_("line amount"), max_digits=12, decimal_places=2)
    # Agency mode (差价) snapshot: the distributor whose resale price the consumer paid, and that
    # distributor's tier purchase price per unit when the order was placed. Their margin is the
    # line's paid amount minus agency_unit_cost × quantity.
    agency_distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency distributor"),
    )
    agency_unit_cost = models.DecimalField(
        _("agency unit cost"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # What the pricing pipeline took off the line, all steps together (unit_price × quantity −
    # discount_amount = paid_amount); the steps are in OrderLineAdjustment.
    discount_amount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    # A flash-sale line's units came from the sale's pool, and go back there (not to the SKU).
    flash_sale = models.ForeignKey(
        "marketing.FlashSale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("flash sale"),
    )
    # Drop-shipping (一件代发) snapshot: the supplier that ships this line and its supply price per
    # unit when the order was placed — what the supplier is owed for it.
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    supply_unit_price = models.DecimalField(
        _("supply price"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(paid_amount__gte=0, discount_amount__gte=0),
                name="order_line_amounts_not_negative",
            ),
            # An agency line has both snapshot fields, a cost that is not negative and a margin
            # that is not negative (the consumer never pays less than the purchase price).
            models.CheckConstraint(
                condition=models.Q(agency_distributor__isnull=True, agency_unit_cost__isnull=True)
                | models.Q(
                    agency_distributor__isnull=False,
                    agency_unit_cost__isnull=False,
                    agency_unit_cost__gte=0,
                    paid_amount__gte=models.F("agency_unit_cost") * models.F("quantity"),
                ),
                name="order_line_agency_snapshot_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(supplier__isnull=True, supply_unit_price__isnull=True)
                | models.Q(
                    supplier__isnull=False,
                    supply_unit_price__isnull=False,
                    supply_unit_price__gt=0,
                ),
                name="order_line_supply_snapshot_consistent",
            ),
        ]

    @property
    def supply_amount(self):  # type: ignore[no-untyped-def]
        """What the supplier is owed for this line (None for the merchant's own goods)."""
        if self.supply_unit_price is None:
            return None
        return self.supply_unit_price * self.quantity

    def __str__(self) -> str:
        return f"{self.product_name} / {self.sku_name} × {self.quantity}"


class OrderLineAdjustment(MerchantOwned):
    """One step of the pricing pipeline on one line (apps.marketing.pricing): what it took off."""

    class Step(models.TextChoices):
        MEMBER = "member", _("Member price")
        PROMOTION = "promotion", _("Promotion")
        FULL_REDUCTION = "full_reduction", _("Full reduction")
        COUPON = "coupon", _("Coupon")
        POINTS = "points", _("Points")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="adjustments")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="adjustments")
    step = models.CharField(_("step"), max_length=16, choices=Step)
    label = models.CharField(_("what"), max_length=120)
    amount = models.DecimalField(_("amount off"), max_digits=12, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("price adjustment")
        verbose_name_plural = _("price breakdown")
        ordering = ["line_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="order_adjustment_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} −¥{self.amount}"


class OrderStatusChange(MerchantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["id"]


class OrderHold(MerchantOwned):
    """A paid order that must not ship yet, and why (e.g. its group buy has not filled).

    A row of its own, not a column on the order: whoever lifts the holds of many orders at once
    (a group filling) locks these rows only, never the orders that payments and refunds lock.
    Placed in the transaction that places the order; ``order_transition`` refuses paid → shipped
    while one exists."""

    class Reason(models.TextChoices):
        GROUP_BUY = "group_buy", _("Waiting for the group to fill")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipping hold")
        verbose_name_plural = _("shipping holds")
        constraints = [
            models.UniqueConstraint(fields=["order", "reason"], name="order_hold_once_per_reason")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.reason}"
