"""Members (会员): a customer's standing in one store — level, points, tags.

A ``Member`` row exists per (merchant, customer) once the customer orders, claims a coupon or is
given one; the level's discount is the first step of the pricing pipeline (apps.marketing.pricing).
Points are an append-only ledger (``PointsEntry``) whose sum is the member's balance; the balance
column is a cache updated in the same transaction as each entry (checked by ``points_check``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class MemberSettings(MerchantOwned):
    """A store's member programme: how points are earned, spent and expire; how levels move."""

    points_per_yuan_earned = models.PositiveIntegerField(_("points earned per ¥1 paid"), default=1)
    points_per_yuan_redeemed = models.PositiveIntegerField(
        _("points worth ¥1 at checkout"), default=100, validators=[MinValueValidator(1)]
    )
    points_max_percent = models.DecimalField(
        # A literal percent sign, not a placeholder: xgettext:no-python-format
        _("points may pay at most (% of the order)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    points_valid_days = models.PositiveIntegerField(_("points expire after (days)"), default=365)
    level_period_days = models.PositiveIntegerField(
        _("level spend counted over (days)"), default=365, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("member settings")
        verbose_name_plural = _("member settings")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], name="member_settings_one_per_merchant"),
            models.CheckConstraint(
                condition=models.Q(points_max_percent__gte=0, points_max_percent__lte=100),
                name="member_settings_points_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(points_per_yuan_redeemed__gte=1),
                name="member_settings_redeem_rate_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Member settings"))


class MemberLevel(MerchantOwned):
    """普通 / 银卡 / 金卡 …: reached by spend over the rolling period, with a discount off prices."""

    name = models.CharField(_("name"), max_length=32)
    min_spend = models.DecimalField(
        _("spend to reach (¥)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    discount_percent = models.DecimalField(
        # A literal percent sign, not a placeholder: xgettext:no-python-format
        _("discount (% off)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99"))],
    )

    class Meta:
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        ordering = ["merchant_id", "min_spend", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="member_level_name_unique"),
            models.UniqueConstraint(
                fields=["merchant", "min_spend"], name="member_level_spend_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lt=100),
                name="member_level_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTag(MerchantOwned):
    name = models.CharField(_("name"), max_length=32)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="member_tag_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Member(MerchantOwned):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("customer"),
    )
    level = models.ForeignKey(
        MemberLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("level"),
    )
    points_balance = models.IntegerField(_("points"), default=0)
    tags = models.ManyToManyField(MemberTag, blank=True, related_name="members")
    created_at = models.DateTimeField(_("member since"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="member_one_per_customer"),
            models.CheckConstraint(
                condition=models.Q(points_balance__gte=0), name="member_points_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)


class PointsEntry(MerchantOwned):
    """One movement of a member's points; never updated or deleted (the sum is the balance)."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("Earned on an order")
        SPENT = "spent", _("Spent at checkout")
        RETURNED = "returned", _("Returned (order cancelled)")
        TAKEN_BACK = "taken_back", _("Taken back (refund)")
        EXPIRED = "expired", _("Expired")
        ADJUSTED = "adjusted", _("Adjusted by staff")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="points_entries", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    points = models.IntegerField(_("points"))
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    # Earned points expire: ``expires_at`` on the earning entry; ``remaining`` is how many of them
    # are not yet spent, expired or taken back (spending draws from the oldest first).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    remaining = models.IntegerField(_("not yet used"), default=0)
    # Idempotency: one entry per (member, key), e.g. "earn:order:42".
    key = models.CharField(max_length=64)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points history")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="points_entry_key_unique"),
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0), name="points_entry_remaining_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="points_expiry")]

    def __str__(self) -> str:
        return f"{self.points:+d}"


class SpendEntry(MerchantOwned):
    """Money a member paid for a completed order (+), or got back on a refund (−): levels are
    reached by the sum over the rolling period. Append-only, one row per (member, key)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="spend_entries")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spend entry")
        verbose_name_plural = _("spend entries")
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="spend_entry_key_unique")
        ]
        indexes = [models.Index(fields=["member", "created_at"], name="spend_member_period")]
