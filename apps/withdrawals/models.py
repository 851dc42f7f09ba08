"""提现: a distributor (or a supplier) takes money out of their available balance.

A withdrawal moves through ``WITHDRAWAL_TRANSITIONS`` (apps/withdrawals/services.py):
requested → approved / rejected; approved → paying; paying → paid / failed. The balance is debited
once, when it is requested (available → withdrawing), and either leaves for good when the payout
succeeds (withdrawing → withdrawn, the fee to the merchant, the tax withheld) or comes back when the
withdrawal is rejected or the payout fails (withdrawing → available).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import Merchant, MerchantOwned

percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
money_validators = [MinValueValidator(Decimal("0"))]


class WithdrawalSettings(models.Model):
    """A merchant's withdrawal rules. Without a row, the defaults of this model apply.

    - The fee is ``fee_percent`` of the part of each withdrawal above ``fee_free_amount`` (the first
      ¥X of every withdrawal carries no fee), rounded down to the cent.
    - The tax withheld is ``tax_percent`` of the part of each withdrawal above ``tax_threshold``
      (per withdrawal, like the ¥800 deduction on labour remuneration), rounded down to the cent.
    - The distributor receives the rest: amount − fee − tax.
    """

    class PayoutProvider(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (no money moves)")
        # Transfers with the merchant's own account (apps.credentials) to the distributor's
        # payout account.
        WECHATPAY = "wechatpay", _("WeChat Pay transfer")
        ALIPAY = "alipay", _("Alipay transfer")

    merchant = models.OneToOneField(
        Merchant,
        on_delete=models.CASCADE,
        related_name="withdrawal_settings",
        verbose_name=_("merchant"),
    )
    minimum_amount = models.DecimalField(
        _("minimum amount"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("A withdrawal asks for at least this much."),
    )
    fee_percent = models.DecimalField(
        _("fee (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=percent_validators,
    )
    fee_free_amount = models.DecimalField(
        _("fee-free amount"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=money_validators,
        help_text=_("The first part of every withdrawal up to this amount carries no fee."),
    )
    tax_percent = models.DecimalField(
        _("tax withheld (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=percent_validators,
        help_text=_("0 withholds no tax."),
    )
    tax_threshold = models.DecimalField(
        _("tax-free amount"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("800.00"),
        validators=money_validators,
        help_text=_("Tax is withheld only on the part of a withdrawal above this amount."),
    )
    review_required = models.BooleanField(
        _("review required"),
        default=True,
        help_text=_("When off, a withdrawal is approved and paid out as soon as it is requested."),
    )
    payout_provider = models.CharField(
        _("payout method"),
        max_length=32,
        choices=PayoutProvider,
        default=PayoutProvider.SANDBOX,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("withdrawal settings")
        verbose_name_plural = _("withdrawal settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    minimum_amount__gt=0,
                    fee_percent__gte=0,
                    tax_percent__gte=0,
                    fee_free_amount__gte=0,
                    tax_threshold__gte=0,
                ),
                name="withdrawal_settings_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    fee_percent__lt=Decimal("100") - models.F("tax_percent"),
                ),
                name="withdrawal_settings_fee_and_tax_below_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant}"


class Withdrawal(MerchantOwned):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAYING = "paying", _("Paying out")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payout failed")

    # Who withdraws: one of the store's distributors, or a supplier (供应商) taking out what the
    # store owes it for supplied goods. Exactly one of the two.
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawals",
        verbose_name=_("distributor"),
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawals",
        verbose_name=_("supplier"),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2)
    tax = models.DecimalField(_("tax withheld"), max_digits=12, decimal_places=2)
    net = models.DecimalField(_("paid to the distributor"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.REQUESTED)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    payout_provider = models.CharField(_("payout method"), max_length=32)
    payout_account = models.CharField(_("payout account"), max_length=64)
    idempotency_key = models.CharField(_("payout idempotency key"), max_length=64, unique=True)
    # Chosen by the client for one request (the page puts one in its confirm form): the same
    # token again, e.g. a double click, returns the first withdrawal instead of making a second.
    request_token = models.CharField(_("request token"), max_length=64, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    paying_since = models.DateTimeField(_("paying since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, fee__gte=0, tax__gte=0, net__gt=0),
                name="withdrawal_amounts_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    amount=models.F("fee") + models.F("tax") + models.F("net"),
                ),
                name="withdrawal_amount_is_fee_tax_net",
            ),
            models.UniqueConstraint(
                fields=["merchant", "distributor", "request_token"],
                condition=~models.Q(request_token=""),
                name="withdrawal_once_per_request_token",
            ),
            models.UniqueConstraint(
                fields=["merchant", "supplier", "request_token"],
                condition=~models.Q(request_token="") & models.Q(supplier__isnull=False),
                name="supplier_withdrawal_once_per_request_token",
            ),
            models.CheckConstraint(
                condition=models.Q(distributor__isnull=False, supplier__isnull=True)
                | models.Q(distributor__isnull=True, supplier__isnull=False),
                name="withdrawal_by_a_distributor_or_a_supplier",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-id"], name="withdrawal_queue"),
            models.Index(fields=["distributor", "-id"], name="withdrawal_by_distributor"),
            models.Index(
                fields=["supplier", "-id"],
                name="withdrawal_by_supplier",
                condition=models.Q(supplier__isnull=False),
            ),
            models.Index(fields=["status", "paying_since"], name="withdrawal_stuck"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ¥{self.amount}"


class WithdrawalStatusChange(MerchantOwned):
    withdrawal = models.ForeignKey(
        Withdrawal, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("withdrawal status change")
        verbose_name_plural = _("withdrawal status changes")
        ordering = ["id"]
