"""拼团: group-buy campaigns per SKU, the groups buyers open and join, and their seats.

A group has ``size`` seats. A seat is taken when its order is placed (a conditional ``UPDATE`` of
``seats_taken`` below ``size``, so a group never holds more members than its size) and given back
when that order is cancelled or expires unpaid. The group is *open* once its opener has paid,
*full* when every seat is paid (its orders may then ship) and *failed* when its deadline passes
first (every paid member is refunded in full).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.merchants.models import MerchantOwned

MAX_GROUP_SIZE = 50
MAX_TIME_LIMIT_HOURS = 24 * 30


class GroupBuy(MerchantOwned):
    """A group-buy campaign: one SKU at a group price, groups of ``group_size`` that must fill
    within ``time_limit_hours`` of opening; groups may be opened between ``starts_at`` and
    ``ends_at``; nobody buys more than ``per_person_limit`` units of it."""

    name = models.CharField(_("name"), max_length=64)
    sku = models.ForeignKey(
        "products.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    group_price = models.DecimalField(
        _("group price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    group_size = models.PositiveSmallIntegerField(
        _("group size"), validators=[MinValueValidator(2), MaxValueValidator(MAX_GROUP_SIZE)]
    )
    time_limit_hours = models.PositiveIntegerField(
        _("hours to fill"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIME_LIMIT_HOURS)],
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    per_person_limit = models.PositiveIntegerField(
        _("per person"), default=1, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("group buy")
        verbose_name_plural = _("group buys")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["sku", "ends_at"], name="groupbuy_sku_window")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="groupbuy_window_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(group_price__gt=0), name="groupbuy_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(group_size__gte=2, group_size__lte=MAX_GROUP_SIZE),
                name="groupbuy_size_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the opener's payment")
        OPEN = "open", pgettext_lazy("group buy", "Open")
        FULL = "full", _("Full")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Never opened")

    campaign = models.ForeignKey(
        GroupBuy, on_delete=models.PROTECT, related_name="groups", verbose_name=_("group buy")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    size = models.PositiveSmallIntegerField(_("size"))
    # Seats held by members whose orders are unpaid or paid; paid_count of them are paid.
    seats_taken = models.PositiveSmallIntegerField(_("seats taken"), default=0)
    paid_count = models.PositiveSmallIntegerField(_("seats paid"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    deadline = models.DateTimeField(_("fill by"), null=True, blank=True)
    filled_at = models.DateTimeField(_("filled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="group_status_deadline")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(paid_count__lte=models.F("seats_taken"))
                & models.Q(seats_taken__lte=models.F("size")),
                name="group_seats_within_size",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.pk}"

    @property
    def seats_left(self) -> int:
        return self.size - self.seats_taken


class GroupMember(MerchantOwned):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Left (unpaid)")
        REFUNDING = "refunding", _("Being refunded")
        REFUNDED = "refunded", _("Refunded")

    # A customer holds at most one seat in a group while their seat is in one of these states.
    SEATED = (Status.PENDING, Status.PAID, Status.REFUNDING)

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="members")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer"),
    )
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    is_leader = models.BooleanField(_("opener"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    refund_case = models.ForeignKey(
        "refunds.RefundCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund"),
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "customer"],
                condition=models.Q(status__in=["pending", "paid", "refunding"]),
                name="group_member_one_seat_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.customer_id}"


class GroupBuyPurchase(MerchantOwned):
    """Units of a campaign held by one customer's seats (the per-person limit)."""

    campaign = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="purchases")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("group-buy purchase")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="groupbuy_purchase_one_per_customer"
            )
        ]
