"""Payouts by a real Celery worker process over real Redis: approval enqueues on commit, the worker
pays once, a duplicate delivery pays nothing more, a failed payout returns the money."""

import re
from decimal import Decimal

import pytest

from apps.ledger.models import Journal, Wallet
from apps.payments.models import SandboxPayout
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import withdrawal_approve, withdrawal_request
from tests.withdrawals.conftest import fund

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

D = Decimal
PAID = re.compile(r"withdrawal_payout_task\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: '(\w+)'")


def results(worker) -> list[str]:  # type: ignore[no-untyped-def]
    return PAID.findall(worker.log())


def test_an_approved_withdrawal_is_paid_once_by_the_worker(
    celery_worker, merchant, chain, staff_user
):
    distributor = chain[3]
    fund(distributor, D("100.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="100.00", account="alipay:li"
    )

    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user)

    celery_worker.wait_until(lambda: results(celery_worker), message="the worker paid out")
    assert results(celery_worker) == ["paid"]
    withdrawal_tasks.withdrawal_payout_task.delay(withdrawal.pk)  # delivered again
    celery_worker.wait_until(
        lambda: len(results(celery_worker)) == 2, message="the repeated task ran"
    )
    assert results(celery_worker) == ["paid", "paid"]
    assert SandboxPayout.objects.count() == 1
    assert Journal.objects.filter(kind="withdrawal_paid").count() == 1
    wallet = Wallet.objects.get(distributor=distributor)
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        D("0.00"),
        D("0.00"),
        D("100.00"),
    )


def test_a_failed_payout_returns_the_money(celery_worker, merchant, chain, staff_user):
    distributor = chain[3]
    fund(distributor, D("100.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="60.00", account="fail-closed"
    )

    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user)

    celery_worker.wait_until(lambda: results(celery_worker), message="the worker tried to pay")
    assert results(celery_worker) == ["failed"]
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "failed"
    wallet = Wallet.objects.get(distributor=distributor)
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        D("100.00"),
        D("0.00"),
        D("0.00"),
    )
