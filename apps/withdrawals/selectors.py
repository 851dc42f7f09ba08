from decimal import Decimal

from django.db.models import QuerySet

from apps.core.money import ZERO
from apps.distributors.models import Distributor
from apps.ledger.models import Wallet
from apps.merchants.models import Merchant

from .models import Withdrawal, WithdrawalSettings
from .quotes import WithdrawalRules


def withdrawal_settings_for(*, merchant: Merchant) -> WithdrawalSettings:
    """The merchant's settings; the model's defaults (unsaved) when the merchant never set any."""
    settings = WithdrawalSettings.objects.filter(merchant=merchant).first()
    return settings or WithdrawalSettings(merchant=merchant)


def withdrawal_rules(settings: WithdrawalSettings) -> WithdrawalRules:
    return WithdrawalRules(
        minimum_amount=settings.minimum_amount,
        fee_percent=settings.fee_percent,
        fee_free_amount=settings.fee_free_amount,
        tax_percent=settings.tax_percent,
        tax_threshold=settings.tax_threshold,
    )


def withdrawable_amount(wallet: Wallet) -> Decimal:
    """Only a positive available balance can be withdrawn. A negative one is a debt (commission
    clawed back after a refund, once it had been released): it stays in ``available`` and later
    releases pay it off before anything becomes withdrawable."""
    return max(wallet.available, ZERO)


def withdrawal_debt(wallet: Wallet) -> Decimal:
    return max(-wallet.available, ZERO)


def withdrawals_for_distributor(*, distributor: Distributor) -> "QuerySet[Withdrawal]":
    return Withdrawal.objects.filter(
        merchant_id=distributor.merchant_id, distributor=distributor
    ).order_by("-id")
