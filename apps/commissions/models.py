from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import Merchant, MerchantOwned

percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class CommissionPlan(models.Model):
    """A merchant's commission settings: percent per level, a cap on their sum, freeze days."""

    merchant = models.OneToOneField(
        Merchant,
        on_delete=models.CASCADE,
        related_name="commission_plan",
        verbose_name=_("merchant"),
    )
    level1_percent = models.DecimalField(
        _("level 1 (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=percent_validators,
    )
    level2_percent = models.DecimalField(
        _("level 2 (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=percent_validators,
    )
    level3_percent = models.DecimalField(
        _("level 3 (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=percent_validators,
    )
    max_total_percent = models.DecimalField(
        _("cap on all levels (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("30.00"),
        validators=percent_validators,
    )
    # The after-sale window: commission stays frozen this long after completion, and beyond it
    # while a refund case on its order line is open.
    freeze_days = models.PositiveIntegerField(
        _("after-sale window (days)"),
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Days after completion during which consumers may ask for a refund. Commission stays "
            "frozen until the window has closed and no refund case on its item is open."
        ),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    level1_percent__gte=0,
                    level2_percent__gte=0,
                    level3_percent__gte=0,
                    max_total_percent__lte=100,
                ),
                name="commission_plan_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    max_total_percent__gte=models.F("level1_percent")
                    + models.F("level2_percent")
                    + models.F("level3_percent")
                ),
                name="commission_plan_levels_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.merchant}: {self.level1_percent}/{self.level2_percent}/{self.level3_percent}%"
        )

    @property
    def level_percents(self) -> dict[int, Decimal]:
        return {1: self.level1_percent, 2: self.level2_percent, 3: self.level3_percent}

    def clean(self) -> None:
        total = sum(self.level_percents.values(), Decimal("0"))
        if self.max_total_percent is not None and total > self.max_total_percent:
            raise ValidationError(
                _("The levels add up to %(total)s%%, more than the cap of %(cap)s%%.")
                % {"total": total, "cap": self.max_total_percent}
            )


class CommissionOverride(MerchantOwned):
    """A product's or a SKU's own commission (exactly one of the two), per level 1–3.

    Each level is either a percent of what was paid for the line or a fixed amount per unit sold
    (``mode``). An empty level falls through to the next source for that level: a SKU's override,
    then its product's, then the beneficiary's tier, then the plan (see ``apps.commissions.calculation``).
    """

    class Mode(models.TextChoices):
        PERCENT = "percent", _("Percent of the amount paid")
        FIXED = "fixed", _("Fixed amount per unit")

    product = models.ForeignKey(
        "products.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="commission_overrides",
        verbose_name=_("product"),
    )
    sku = models.ForeignKey(
        "products.Sku",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="commission_overrides",
        verbose_name=_("SKU"),
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode, default=Mode.PERCENT)
    level1_value = models.DecimalField(
        _("level 1"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    level2_value = models.DecimalField(
        _("level 2"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    level3_value = models.DecimalField(
        _("level 3"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("commission override")
        verbose_name_plural = _("commission overrides")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__isnull=False, sku__isnull=True)
                | models.Q(product__isnull=True, sku__isnull=False),
                name="commission_override_product_xor_sku",
                violation_error_message=_("Choose either a product or a SKU, not both."),
            ),
            models.UniqueConstraint(
                fields=["merchant", "product"],
                condition=models.Q(product__isnull=False),
                name="commission_override_once_per_product",
                violation_error_message=_("This product already has an override."),
            ),
            models.UniqueConstraint(
                fields=["merchant", "sku"],
                condition=models.Q(sku__isnull=False),
                name="commission_override_once_per_sku",
                violation_error_message=_("This SKU already has an override."),
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(level1_value__isnull=True) | models.Q(level1_value__gte=0))
                    & (models.Q(level2_value__isnull=True) | models.Q(level2_value__gte=0))
                    & (models.Q(level3_value__isnull=True) | models.Q(level3_value__gte=0))
                ),
                name="commission_override_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(mode="fixed")
                | (
                    (models.Q(level1_value__isnull=True) | models.Q(level1_value__lte=100))
                    & (models.Q(level2_value__isnull=True) | models.Q(level2_value__lte=100))
                    & (models.Q(level3_value__isnull=True) | models.Q(level3_value__lte=100))
                ),
                name="commission_override_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        target = self.sku if self.sku_id else self.product
        return f"{target}: {self.level1_value}/{self.level2_value}/{self.level3_value} {self.mode}"

    @property
    def level_values(self) -> dict[int, Decimal | None]:
        return {1: self.level1_value, 2: self.level2_value, 3: self.level3_value}

    def clean(self) -> None:
        if self.mode == self.Mode.PERCENT:
            for level, value in self.level_values.items():
                if value is not None and value > 100:
                    raise ValidationError({f"level{level}_value": _("A percent is at most 100.")})


class BonusTier(MerchantOwned):
    """阶梯: once a distributor's sales in a calendar month reach ``monthly_sales_threshold``, the
    highest such tier's ``extra_percent`` is added to their level-1 percent rate."""

    plan = models.ForeignKey(
        CommissionPlan,
        on_delete=models.CASCADE,
        related_name="bonus_tiers",
        verbose_name=_("commission plan"),
    )
    monthly_sales_threshold = models.DecimalField(
        _("monthly sales from"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    extra_percent = models.DecimalField(
        _("extra level-1 percent"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("performance bonus tier")
        verbose_name_plural = _("performance bonus tiers")
        ordering = ["monthly_sales_threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "plan", "monthly_sales_threshold"],
                name="bonus_tier_threshold_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    monthly_sales_threshold__gt=0, extra_percent__gt=0, extra_percent__lte=100
                ),
                name="bonus_tier_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.monthly_sales_threshold}: +{self.extra_percent}%"


class CommissionRecord(MerchantOwned):
    """佣金: what one beneficiary earns at one level from one order line, and why.

    ``kind`` tells a commission (a rate of the line) from an agency margin (差价: the line's paid
    amount above the distributor's purchase price); both may exist for the same line and person.
    ``rule``, ``rate_percent``, ``bonus_percent``, ``unit_amount`` and ``explanation`` record how
    the amount was reached, so a record explains itself after the rules change.
    """

    class Status(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        RELEASED = "released", _("Available")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        COMMISSION = "commission", _("Commission")
        MARGIN = "margin", _("Agency margin (差价)")

    class Rule(models.TextChoices):
        SKU_FIXED = "sku_fixed", _("SKU fixed amount")
        SKU_PERCENT = "sku_percent", _("SKU percent")
        PRODUCT_FIXED = "product_fixed", _("Product fixed amount")
        PRODUCT_PERCENT = "product_percent", _("Product percent")
        TIER = "tier", _("Distributor tier percent")
        DEFAULT = "default", _("Merchant default percent")
        AGENCY_MARGIN = "agency_margin", _("Agency margin (差价)")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="commissions")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="commissions"
    )
    beneficiary = models.ForeignKey(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="commissions"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.COMMISSION)
    rule = models.CharField(_("rule"), max_length=16, choices=Rule, default=Rule.DEFAULT)
    base_amount = models.DecimalField(_("base"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Percent rules: the percent applied (bonus included, after the cap). Fixed and margin: 0.
    rate_percent = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    bonus_percent = models.DecimalField(
        _("bonus (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    # Fixed rules: the amount per unit; margin: the purchase price per unit.
    unit_amount = models.DecimalField(
        _("per unit"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    # Taken back by refunds of the line (pro-rata); what the beneficiary keeps is amount − this.
    reversed_amount = models.DecimalField(_("reversed"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.FROZEN)
    release_at = models.DateTimeField(_("releases at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("commission record")
        verbose_name_plural = _("commission records")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "beneficiary", "level", "kind"],
                name="commission_once_per_line_level",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="commission") | models.Q(level=1),
                name="commission_margin_at_level_1",
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=3), name="commission_level_1_to_3"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="commission_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(reversed_amount__gte=0, reversed_amount__lte=models.F("amount")),
                name="commission_reversed_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "release_at"], name="commission_release_due"),
            models.Index(fields=["beneficiary", "-id"], name="commission_by_beneficiary"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.amount} → {self.beneficiary_id}"

    @property
    def explanation_text(self) -> str:
        return explanation_text(self.explanation)

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


class CommissionReversal(MerchantOwned):
    """追回: what one refund took back from one commission record, and from which balance."""

    record = models.ForeignKey(CommissionRecord, on_delete=models.PROTECT, related_name="reversals")
    refund_case = models.ForeignKey(
        "refunds.RefundCase", on_delete=models.PROTECT, related_name="commission_reversals"
    )
    beneficiary = models.ForeignKey(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="commission_reversals"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    # The record's status when the refund arrived: frozen (the frozen balance is reduced) or
    # released (the available balance is, even below zero).
    from_status = models.CharField(_("taken from"), max_length=16)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("commission reversal")
        verbose_name_plural = _("commission reversals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "refund_case"], name="commission_reversal_once_per_refund"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="commission_reversal_positive"
            ),
        ]


def explanation_text(explanation: Mapping[str, Any]) -> str:
    """One sentence saying how a record's amount was reached, in the reader's language (from the
    ``explanation`` that ``apps.commissions.calculation`` stored with it)."""
    if not explanation:
        return ""
    rule = explanation.get("rule", "")
    amount = explanation.get("amount", "")
    if rule == CommissionRecord.Rule.AGENCY_MARGIN:
        return gettext("%(label)s: %(base)s paid − %(cost)s × %(quantity)s = %(amount)s") % {
            "label": CommissionRecord.Rule(rule).label,
            "base": explanation["base"],
            "cost": explanation["unit_cost"],
            "quantity": explanation["quantity"],
            "amount": amount,
        }
    label = CommissionRecord.Rule(rule).label if rule in CommissionRecord.Rule.values else rule
    if explanation.get("mode") == "fixed":
        text = gettext("%(label)s: %(value)s × %(quantity)s = %(total)s") % {
            "label": label,
            "value": explanation["value"],
            "quantity": explanation["quantity"],
            "total": explanation["fixed_total"],
        }
        if explanation.get("limited_to_base"):
            text += gettext(", limited to the %(base)s paid") % {"base": explanation["base"]}
    else:
        text = gettext("%(label)s: %(value)s%% of %(base)s paid") % {
            "label": label,
            "value": explanation["value"],
            "base": explanation["base"],
        }
        if "bonus_percent" in explanation:
            text += gettext(
                ", plus a %(bonus)s%% bonus (month's sales %(sales)s ≥ %(threshold)s)"
            ) % {
                "bonus": explanation["bonus_percent"],
                "sales": explanation["monthly_sales"],
                "threshold": explanation["bonus_threshold"],
            }
    if explanation.get("cap_trimmed"):
        text += gettext(", trimmed from %(before)s by the %(cap)s%% cap") % {
            "before": explanation["before_cap"],
            "cap": explanation["cap_percent"],
        }
    return text + gettext(" → %(amount)s (rounded down)") % {"amount": amount}
