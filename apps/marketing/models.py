"""The marketing centre (营销中心): coupons, promotions and flash sales.

What they take off an order is computed in one place, ``apps.marketing.pricing``; this module only
holds the rules merchants set and the rows that claim scarce things (a coupon, a flash unit).
"""

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class _Digits(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _Digits = {"max_digits": 12, "decimal_places": 2}


class Coupon(MerchantOwned):
    """A batch of coupons (优惠券) as the merchant defines it; each claimed one is a CouponGrant."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount off above a threshold (满减)")
        PERCENT = "percent", _("Percent off, with a cap (折扣)")
        NO_THRESHOLD = "no_threshold", _("Amount off, no threshold (无门槛)")

    class Scope(models.TextChoices):
        STORE = "store", _("Whole store")
        PRODUCTS = "products", _("Only the chosen products")
        EXCLUDE = "exclude", _("All but the chosen products")

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.AMOUNT)
    amount_off = models.DecimalField(
        _("amount off (¥)"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_discount = models.DecimalField(
        _("at most (¥)"), **MONEY, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    threshold = models.DecimalField(
        _("order at least (¥)"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("valid for N days after claiming"),
        null=True,
        blank=True,
        help_text=_("Leave empty to use the dates above."),
    )
    total_quantity = models.PositiveIntegerField(_("total quantity"))
    issued_count = models.PositiveIntegerField(_("issued"), default=0, editable=False)
    per_person_limit = models.PositiveIntegerField(
        _("per person"), default=1, validators=[MinValueValidator(1)]
    )
    scope = models.CharField(_("applies to"), max_length=16, choices=Scope, default=Scope.STORE)
    products = models.ManyToManyField(
        "products.Product", blank=True, related_name="+", verbose_name=_("products")
    )
    stackable = models.BooleanField(
        _("stacks with promotions"),
        default=True,
        help_text=_("If off, lines with a promotion price or full reduction do not count."),
    )
    claimable = models.BooleanField(
        _("shown in the coupon centre"),
        default=True,
        help_text=_("If off, only staff and distributors hand it out."),
    )
    distributor_shareable = models.BooleanField(
        _("distributors may share it"),
        default=False,
        help_text=_(
            "Distributors get a coupon link carrying their code; claiming through it binds the "
            "consumer to them under the binding rules."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued_count__lte=models.F("total_quantity")),
                name="coupon_never_over_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(percent_off__gte=0, percent_off__lte=100),
                name="coupon_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_days__isnull=False) | models.Q(valid_until__isnull=False),
                name="coupon_has_validity",
                violation_error_message=_("Give an end date or a number of days."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CouponGrant(MerchantOwned):
    """One coupon in one customer's hands (用户券)."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        USED = "used", _("Used")
        VOID = "void", _("Withdrawn")

    class Source(models.TextChoices):
        CLAIMED = "claimed", _("Claimed in the coupon centre")
        STAFF = "staff", _("Issued by staff")
        DISTRIBUTOR = "distributor", _("Through a distributor's link")

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="grants", verbose_name=_("coupon")
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coupon_grants",
        verbose_name=_("customer"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.AVAILABLE)
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.CLAIMED)
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("distributor"),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used on order"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer coupon")
        verbose_name_plural = _("customer coupons")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["merchant", "customer", "status"], name="coupon_grant_customer")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="used", order__isnull=False)
                | (~models.Q(status="used") & models.Q(order__isnull=True)),
                name="coupon_grant_used_has_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.coupon} → {self.customer}"


class CouponClaimCount(MerchantOwned):
    """How many of one coupon a customer holds: the per-person limit as a conditional upsert."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coupon", "customer"], name="coupon_claim_count_unique")
        ]


class Promotion(MerchantOwned):
    """A limited-time price (限时折扣) or a stepped full reduction (满减/满折)."""

    class Kind(models.TextChoices):
        LIMITED_PRICE = "limited_price", _("Limited-time price (限时折扣)")
        FULL_REDUCTION = "full_reduction", _("Full reduction (满减/满折)")

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    products = models.ManyToManyField(
        "products.Product",
        blank=True,
        related_name="+",
        verbose_name=_("products"),
        help_text=_("Full reduction: the products it counts (none = the whole store)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["merchant", "ends_at"], name="promotion_window")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="promotion_window_ordered",
                violation_error_message=_("The end must be after the start."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class PromotionPrice(MerchantOwned):
    """A limited-time price of one SKU during its promotion's window."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey(
        "products.Sku", on_delete=models.CASCADE, related_name="+", verbose_name=_("SKU")
    )
    price = models.DecimalField(
        _("price"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )

    class Meta:
        verbose_name = _("promotion price")
        verbose_name_plural = _("promotion prices")
        constraints = [
            models.UniqueConstraint(fields=["promotion", "sku"], name="promotion_price_unique"),
            models.CheckConstraint(
                condition=models.Q(price__gt=0), name="promotion_price_positive"
            ),
        ]


class PromotionStep(MerchantOwned):
    """A step of a full reduction: at ``threshold`` or more, ``amount_off`` or ``percent_off``."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="steps")
    threshold = models.DecimalField(_("at least (¥)"), **MONEY, validators=[MinValueValidator(0)])
    amount_off = models.DecimalField(
        _("amount off (¥)"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("reduction step")
        verbose_name_plural = _("reduction steps")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "threshold"], name="promotion_step_threshold_unique"
            )
        ]


class FlashSale(MerchantOwned):
    """秒杀: a flash price for one SKU in a window, sold from its own stock pool.

    The pool is taken from the SKU's stock when the sale is created; units are sold with a
    conditional ``UPDATE … SET remaining = remaining - n WHERE remaining >= n``; what is unsold
    when the sale ends goes back to the SKU (``returned_at`` marks it done, once)."""

    name = models.CharField(_("name"), max_length=64)
    sku = models.ForeignKey(
        "products.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    price = models.DecimalField(
        _("flash price"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    pool = models.PositiveIntegerField(_("units for the sale"), validators=[MinValueValidator(1)])
    remaining = models.IntegerField(_("units left"), default=0)
    per_person_limit = models.PositiveIntegerField(
        _("per person"), default=1, validators=[MinValueValidator(1)]
    )
    returned_at = models.DateTimeField(_("unsold units returned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["sku", "ends_at"], name="flash_sale_sku_window")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("pool")),
                name="flash_sale_remaining_in_pool",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="flash_sale_window_ordered",
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="flash_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class FlashPurchase(MerchantOwned):
    """Units of a flash sale held by one customer's orders (the per-person limit)."""

    flash_sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="purchases")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("flash purchase")
        constraints = [
            models.UniqueConstraint(
                fields=["flash_sale", "customer"], name="flash_purchase_one_per_customer"
            )
        ]
