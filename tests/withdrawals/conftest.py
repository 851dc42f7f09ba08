from decimal import Decimal

import pytest
from django.db import transaction

from apps.distributors.models import Distributor
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.ledger.posting import Leg, ledger_post
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import WithdrawalSettings

D = Decimal


def fund(distributor: Distributor, amount: Decimal, *, key: str | None = None) -> None:
    """Give ``distributor`` ``amount`` of available balance (negative: a debt), as a balanced
    adjustment against the merchant's payable."""
    with transaction.atomic():
        ledger_post(
            merchant_id=distributor.merchant_id,
            kind=Journal.Kind.ADJUSTMENT,
            key=key or f"test-fund:{distributor.pk}:{amount}:{Journal.objects.count()}",
            legs=[
                Leg(LedgerEntry.Account.MERCHANT_PAYABLE, -amount),
                Leg(LedgerEntry.Account.AVAILABLE, amount, distributor.pk),
            ],
            memo="test funding",
        )


def balances(distributor: Distributor) -> tuple[Decimal, Decimal, Decimal]:
    wallet = Wallet.objects.get(distributor=distributor)
    return wallet.available, wallet.withdrawing, wallet.withdrawn


@pytest.fixture
def payouts_enqueued(monkeypatch):
    """Record payout enqueues instead of publishing them."""
    calls: list[int] = []
    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", calls.append)
    return calls


@pytest.fixture
def rules(merchant):
    """Minimum ¥10; fee 1.5 % above a ¥100 fee-free band; tax 20 % above ¥800; review required."""
    return WithdrawalSettings.objects.create(
        merchant=merchant,
        minimum_amount=D("10.00"),
        fee_percent=D("1.50"),
        fee_free_amount=D("100.00"),
        tax_percent=D("20.00"),
        tax_threshold=D("800.00"),
    )


@pytest.fixture
def distributor(chain):
    return chain[3]
