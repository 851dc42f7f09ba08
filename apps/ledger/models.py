"""The books: journals of balanced entries, and each distributor's and supplier's wallet (their
caches).

The tables keep the names they had when the ledger lived in ``apps.commissions``
(``commissions_journal``, ``commissions_ledgerentry``, ``commissions_wallet``): the models moved,
the data did not.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


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
        db_table = "commissions_wallet"  # the table from before the ledger had its own app
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")

    @property
    def total_earned(self) -> Decimal:
        return self.frozen + self.available + self.withdrawing + self.withdrawn


class SupplierWallet(MerchantOwned):
    """What one merchant owes one supplier (供应商) for supplied goods sold in its store: a cache of
    the supplier's four ledger accounts with that merchant, written only by ``ledger_post`` like
    ``Wallet``. ``available`` goes negative when a refund the supplier bears comes after release
    (the debt is settled by later sales before anything can be withdrawn)."""

    # A string reference to the app above: the ledger stores the supplier's id, never imports it.
    supplier = models.ForeignKey(
        "suppliers.Supplier", on_delete=models.PROTECT, related_name="wallets"
    )
    frozen = models.DecimalField(_("frozen"), max_digits=14, decimal_places=2, default=0)
    available = models.DecimalField(_("available"), max_digits=14, decimal_places=2, default=0)
    withdrawing = models.DecimalField(
        _("being withdrawn"), max_digits=14, decimal_places=2, default=0
    )
    withdrawn = models.DecimalField(_("withdrawn"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("supplier wallet")
        verbose_name_plural = _("supplier wallets")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "supplier"], name="supplier_wallet_once_per_store"
            ),
        ]

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
        SUPPLY_OWED = "supply_owed", _("Owed to the supplier (frozen)")
        SUPPLY_RELEASED = "supply_released", _("Supplier's share released")
        SUPPLY_REVERSED = "supply_reversed", _("Supplier's share taken back")
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
        db_table = "commissions_journal"
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
        SUPPLIER_FROZEN = "supplier_frozen", _("Supplier: frozen")
        SUPPLIER_AVAILABLE = "supplier_available", _("Supplier: available")
        SUPPLIER_WITHDRAWING = "supplier_withdrawing", _("Supplier: being withdrawn")
        SUPPLIER_WITHDRAWN = "supplier_withdrawn", _("Supplier: withdrawn")

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(_("account"), max_length=24, choices=Account)
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    # A string reference to the app above: the ledger stores the record's id, never imports it.
    commission = models.ForeignKey(
        "commissions.CommissionRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        db_table = "commissions_ledgerentry"
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    account__in=["frozen", "available", "withdrawing", "withdrawn"],
                    distributor__isnull=False,
                    supplier__isnull=True,
                )
                | models.Q(
                    account__in=[
                        "supplier_frozen",
                        "supplier_available",
                        "supplier_withdrawing",
                        "supplier_withdrawn",
                    ],
                    distributor__isnull=True,
                    supplier__isnull=False,
                )
                | models.Q(
                    account__in=["provider", "merchant_payable", "platform_fee", "tax_withheld"],
                    distributor__isnull=True,
                    supplier__isnull=True,
                ),
                name="ledger_entry_holder_iff_holders_account",
            ),
        ]
        indexes = [
            models.Index(fields=["distributor", "account"], name="ledger_by_distributor"),
            models.Index(fields=["merchant", "account"], name="ledger_by_merchant_account"),
            models.Index(
                fields=["supplier", "account"],
                name="ledger_by_supplier",
                condition=models.Q(supplier__isnull=False),
            ),
        ]
