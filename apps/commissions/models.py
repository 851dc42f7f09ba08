from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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
    freeze_days = models.PositiveIntegerField(
        _("freeze days"),
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=_("Commission stays frozen this many days after the order completes."),
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
        ]
        indexes = [
            models.Index(fields=["status", "release_at"], name="commission_release_due"),
            models.Index(fields=["beneficiary", "-id"], name="commission_by_beneficiary"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.amount} → {self.beneficiary_id}"


class Wallet(MerchantOwned):
    """A distributor's balances: a cache of its four ledger accounts, written only by
    ``ledger_post`` in the same transaction as the entries, so each always equals their sum.
    ``available`` goes negative when commission already released is clawed back by a refund:
    that debt is settled by later earnings before anything can be withdrawn."""

    distributor = models.OneToOneField(
        "distributors.Distributor", on_delete=models.PROTECT, related_name="wallet"
    )
    frozen = models.DecimalField(_("frozen"), max_digits=14, decimal_places=2, default=0)
    available = models.DecimalField(_("available"), max_digits=14, decimal_places=2, default=0)
    withdrawing = models.DecimalField(
        _("being withdrawn"), max_digits=14, decimal_places=2, default=0
    )
    withdrawn = models.DecimalField(_("withdrawn"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")

    @property
    def total_earned(self) -> Decimal:
        return self.frozen + self.available + self.withdrawing + self.withdrawn


class Journal(MerchantOwned):
    """One movement of money: a balanced set of ledger entries (they sum to zero), recorded once
    per (merchant, key). Immutable, like its entries (database triggers refuse UPDATE and DELETE,
    and a deferred constraint trigger refuses a transaction that leaves a journal unbalanced)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment received")
        REFUND = "refund", _("Refund")
        COMMISSION_EARNED = "commission_earned", _("Commission earned (frozen)")
        COMMISSION_RELEASED = "commission_released", _("Commission released")
        COMMISSION_REVERSED = "commission_reversed", _("Commission reversed")
        WITHDRAWAL_REQUESTED = "withdrawal_requested", _("Withdrawal requested")
        WITHDRAWAL_RETURNED = "withdrawal_returned", _("Withdrawal returned")
        WITHDRAWAL_PAID = "withdrawal_paid", _("Withdrawal paid")
        ADJUSTMENT = "adjustment", _("Adjustment")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind)
    key = models.CharField(_("key"), max_length=80)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("journal")
        verbose_name_plural = _("journals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="journal_key_once"),
        ]
        indexes = [models.Index(fields=["merchant", "created_at"], name="journal_by_time")]

    def __str__(self) -> str:
        return self.key


class LedgerEntry(MerchantOwned):
    """One leg of a journal: a signed amount on one account, credit-positive (positive means the
    ledger owes the account's holder more). Never updated or deleted."""

    class Account(models.TextChoices):
        PROVIDER = "provider", _("Held at the payment provider")
        MERCHANT_PAYABLE = "merchant_payable", _("Owed to the merchant")
        PLATFORM_FEE = "platform_fee", _("Platform fee")
        TAX_WITHHELD = "tax_withheld", _("Tax withheld")
        FROZEN = "frozen", _("Frozen")
        AVAILABLE = "available", _("Available")
        WITHDRAWING = "withdrawing", _("Being withdrawn")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(_("account"), max_length=24, choices=Account)
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    commission = models.ForeignKey(
        CommissionRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    account__in=["frozen", "available", "withdrawing", "withdrawn"],
                    distributor__isnull=False,
                )
                | models.Q(
                    account__in=["provider", "merchant_payable", "platform_fee", "tax_withheld"],
                    distributor__isnull=True,
                ),
                name="ledger_entry_distributor_iff_distributor_account",
            ),
        ]
        indexes = [
            models.Index(fields=["distributor", "account"], name="ledger_by_distributor"),
            models.Index(fields=["merchant", "account"], name="ledger_by_merchant_account"),
        ]
