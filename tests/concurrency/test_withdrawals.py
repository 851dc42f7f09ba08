"""Withdrawals under real concurrency (PostgreSQL, committed transactions, threads released by a
barrier): a balance is never withdrawn twice, a review has one outcome, a payout pays once."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.core.errors import Conflict, DomainError
from apps.ledger.models import Journal, Wallet
from apps.payments.models import SandboxPayout
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
)
from tests.support.ledger import ledger_balances
from tests.withdrawals.conftest import fund

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture(autouse=True)
def payouts_enqueued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", calls.append)
    return calls


def wallet_equals_ledger(distributor) -> tuple[Decimal, Decimal, Decimal]:  # type: ignore[no-untyped-def]
    wallet = Wallet.objects.get(distributor=distributor)
    ledger = ledger_balances(distributor=distributor)
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        ledger["available"],
        ledger["withdrawing"],
        ledger["withdrawn"],
    )
    call_command("ledger_check")
    return wallet.available, wallet.withdrawing, wallet.withdrawn


def test_two_withdrawals_of_the_whole_balance_at_once_one_succeeds(merchant, chain):
    distributor = chain[3]
    fund(distributor, D("100.00"))

    outcomes = race(
        [
            lambda: withdrawal_request(
                merchant=merchant, distributor=distributor, amount="100.00", account="a"
            )
            for _ in range(2)
        ]
    )

    succeeded = [outcome for outcome in outcomes if outcome.error is None]
    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(succeeded) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], DomainError)
    assert (refused[0].status, refused[0].code) == (400, "insufficient_balance")
    assert Withdrawal.objects.count() == 1
    assert wallet_equals_ledger(distributor) == (D("0.00"), D("100.00"), D("0.00"))


def test_a_double_submitted_request_makes_one_withdrawal(merchant, chain):
    distributor = chain[3]
    fund(distributor, D("100.00"))

    outcomes = race(
        [
            lambda: withdrawal_request(
                merchant=merchant,
                distributor=distributor,
                amount="40.00",
                account="a",
                request_token="same-click",
            )
            for _ in range(2)
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    assert outcomes[0].value.pk == outcomes[1].value.pk
    assert Withdrawal.objects.count() == 1
    assert wallet_equals_ledger(distributor) == (D("60.00"), D("40.00"), D("0.00"))


def test_eight_withdrawals_racing_never_take_more_than_the_balance(merchant, chain):
    distributor = chain[3]
    fund(distributor, D("100.00"))

    outcomes = race(
        [
            lambda: withdrawal_request(
                merchant=merchant, distributor=distributor, amount="30.00", account="a"
            )
            for _ in range(8)
        ]
    )

    assert sum(outcome.error is None for outcome in outcomes) == 3
    assert {getattr(o.error, "code", None) for o in outcomes if o.error} == {"insufficient_balance"}
    assert wallet_equals_ledger(distributor) == (D("10.00"), D("90.00"), D("0.00"))


def test_approve_and_reject_at_once_have_one_outcome(merchant, chain, staff_user):
    distributor = chain[3]
    fund(distributor, D("100.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="60.00", account="a"
    )

    outcomes = race(
        [
            lambda: withdrawal_approve(
                merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user
            ),
            lambda: withdrawal_reject(
                merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user, reason="no"
            ),
        ]
    )

    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    withdrawal.refresh_from_db()
    assert withdrawal.status_changes.count() == 2  # requested, then one review
    if withdrawal.status == "approved":
        assert wallet_equals_ledger(distributor) == (D("40.00"), D("60.00"), D("0.00"))
    else:
        assert withdrawal.status == "rejected"
        assert wallet_equals_ledger(distributor) == (D("100.00"), D("0.00"), D("0.00"))


def test_a_payout_run_by_several_workers_at_once_pays_once(merchant, chain, staff_user):
    distributor = chain[3]
    fund(distributor, D("100.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="100.00", account="a"
    )
    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user)

    outcomes = race([lambda: withdrawal_pay(withdrawal_id=withdrawal.pk) for _ in range(4)])

    assert [outcome.error for outcome in outcomes] == [None] * 4
    assert [outcome.value for outcome in outcomes] == ["paid"] * 4
    assert SandboxPayout.objects.count() == 1
    assert Journal.objects.filter(kind="withdrawal_paid").count() == 1
    assert wallet_equals_ledger(distributor) == (D("0.00"), D("0.00"), D("100.00"))
