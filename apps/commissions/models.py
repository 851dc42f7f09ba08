from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
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


class CommissionRecord(MerchantOwned):
    """佣金: what one beneficiary earns at one level from one order line."""

    class Status(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        RELEASED = "released", _("Available")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="commissions")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="commissions"
    )
    beneficiary = models.ForeignKey(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="commissions"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    base_amount = models.DecimalField(_("base"), max_digits=12, decimal_places=2)
    rate_percent = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
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
                fields=["order_line", "beneficiary", "level"], name="commission_once_per_line_level"
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


class Wallet(MerchantOwned):
    """A distributor's balances. Each one always equals the sum of its ledger entries."""

    distributor = models.OneToOneField(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="wallet"
    )
    frozen = models.DecimalField(_("frozen"), max_digits=14, decimal_places=2, default=0)
    available = models.DecimalField(_("available"), max_digits=14, decimal_places=2, default=0)
    withdrawn = models.DecimalField(_("withdrawn"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")

    @property
    def total_earned(self) -> Decimal:
        return self.frozen + self.available + self.withdrawn


class LedgerEntry(MerchantOwned):
    """One append-only movement on one of a distributor's balances. Never updated or deleted."""

    class Account(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        AVAILABLE = "available", _("Available")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Kind(models.TextChoices):
        COMMISSION_EARNED = "commission_earned", _("Commission earned (frozen)")
        COMMISSION_RELEASED = "commission_released", _("Commission released")

    distributor = models.ForeignKey(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    account = models.CharField(_("account"), max_length=16, choices=Account)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind)
    commission = models.ForeignKey(
        CommissionRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commission", "account", "kind"],
                name="ledger_entry_once_per_commission_move",
            )
        ]
