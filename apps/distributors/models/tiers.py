"""Tiers (等级), the conditions of moving between them, and the history of moves."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned

percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Combinator(models.TextChoices):
    ALL = "all", _("All conditions (AND)")
    ANY = "any", _("Any condition (OR)")


class Tier(MerchantOwned):
    """等级: a merchant-defined distributor tier. A higher rank is a better tier; its commission
    percents per level, when set, replace the merchant's default percents for its members."""

    name = models.CharField(_("name"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("rank"))
    level1_percent = models.DecimalField(
        _("level 1 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    level2_percent = models.DecimalField(
        _("level 2 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    level3_percent = models.DecimalField(
        _("level 3 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    upgrade_combinator = models.CharField(
        _("upgrade when"),
        max_length=3,
        choices=Combinator,
        default=Combinator.ALL,
        help_text=_("Whether all upgrade conditions must hold, or any one of them."),
    )
    keep_combinator = models.CharField(
        _("kept while"),
        max_length=3,
        choices=Combinator,
        default=Combinator.ALL,
        help_text=_("Whether all keep conditions must hold, or any one of them."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["merchant_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["merchant", "name"], name="tier_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_percents(self) -> dict[int, Decimal | None]:
        return {1: self.level1_percent, 2: self.level2_percent, 3: self.level3_percent}


class TierCondition(MerchantOwned):
    """One condition of a tier: upgrade into it, or keep it (otherwise down one step)."""

    class Purpose(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade into this tier")
        KEEP = "keep", _("Keep this tier")

    class Metric(models.TextChoices):
        OWN_SALES_AMOUNT = "own_sales_amount", _("Own sales amount")
        OWN_ORDER_COUNT = "own_order_count", _("Own order count")
        TEAM_SALES_AMOUNT = "team_sales_amount", _("Team sales amount")
        TEAM_ORDER_COUNT = "team_order_count", _("Team order count")
        DIRECT_RECRUITS = "direct_recruits", _("Direct recruits")

    tier = models.ForeignKey(
        Tier, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("tier")
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=Purpose)
    metric = models.CharField(_("metric"), max_length=24, choices=Metric)
    threshold = models.DecimalField(
        _("at least"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("An amount in yuan, or a count."),
    )
    period_days = models.PositiveIntegerField(
        _("over the last (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )

    class Meta:
        verbose_name = _("tier condition")
        verbose_name_plural = _("tier conditions")
        ordering = ["tier_id", "purpose", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gt=0), name="tier_condition_threshold_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(period_days__gte=1), name="tier_condition_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≥ {self.threshold} / {self.period_days}d"

    @property
    def is_amount(self) -> bool:
        return self.metric in (self.Metric.OWN_SALES_AMOUNT, self.Metric.TEAM_SALES_AMOUNT)


class TierChange(MerchantOwned):
    """History of a distributor's tier: every upgrade and downgrade with its reason and figures."""

    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        related_name="tier_changes",
        verbose_name=_("distributor"),
    )
    from_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to"),
    )
    reason = models.CharField(_("reason"), max_length=255)
    metrics = models.JSONField(_("figures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.distributor}: {self.from_tier or '-'} → {self.to_tier or '-'}"
