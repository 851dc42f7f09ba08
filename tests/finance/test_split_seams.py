"""Payment splits (分账) meeting refunds and withdrawals: a record is split for what refunds left
of it, an open refund case holds the split back, and a share paid out by the split is never
withdrawable again (nor a share withdrawn before it split)."""

from decimal import Decimal

import pytest

from apps.commissions.models import CommissionRecord
from apps.commissions.payment_splits import payment_split_due_order_ids, payment_split_order
from apps.commissions.services import commissions_release_due
from apps.core.errors import DomainError
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Wallet
from apps.payments import tasks as payment_tasks
from apps.payments.models import PaymentSplit
from apps.refunds.models import RefundCase
from apps.refunds.services import (
    RefundLineRequest,
    refund_approve,
    refund_reject,
    refund_request,
)
from apps.withdrawals.services import withdrawal_request
from tests.refunds.conftest import notify

from .conftest import later

pytestmark = pytest.mark.django_db
D = Decimal


def splits(order):
    return list(
        PaymentSplit.objects.filter(payment__order=order)
        .order_by("id")
        .values_list("receiver", "distributor_id", "amount")
    )


@pytest.fixture(autouse=True)
def refund_deliveries(monkeypatch):
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )


@pytest.fixture(autouse=True)
def ledger_stays_sound():
    yield
    assert ledger_breaches() == []


def ask_one_unit_back(order):
    line = order.lines.get(unit_price=D("10.01"))
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind="quantity",
        reason="broken",
        lines=[RefundLineRequest(line.pk, quantity=1)],
    )


def refund_one_unit(order, django_capture_on_commit_callbacks):
    case = ask_one_unit_back(order)
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    return case


def test_records_reduced_by_a_refund_are_split_for_what_is_left(
    settled, chain, django_capture_on_commit_callbacks
):
    # one unit of 10.01 refunded while the records are frozen: a third of each line-2 record
    refund_one_unit(settled, django_capture_on_commit_callbacks)
    assert commissions_release_due(now=later()) == 6
    assert sorted(
        CommissionRecord.objects.filter(order=settled, level=1).values_list(
            "amount", "reversed_amount"
        )
    ) == [(D("3.00"), D("1.00")), (D("3.33"), D("0.00"))]

    assert payment_split_order(order_id=settled.pk, now=later()) == 5

    # kept 53.35; the platform keeps its fee less the share refunded with the unit
    case = RefundCase.objects.get(order=settled)
    assert case.platform_fee_share == D("0.09")
    assert splits(settled) == [
        ("platform", None, D("0.54")),
        ("distributor", chain[3].pk, D("5.33")),
        ("distributor", chain[2].pk, D("2.66")),
        ("distributor", chain[1].pk, D("1.06")),
        ("merchant", None, D("43.76")),
    ]
    assert [
        Wallet.objects.get(distributor=distributor).available
        for distributor in (chain[3], chain[2], chain[1])
    ] == [D("0.00")] * 3


def test_an_open_refund_case_holds_the_split_back_until_it_closes(final, chain):
    case = ask_one_unit_back(final)

    assert payment_split_order(order_id=final.pk, now=later()) == 0
    assert splits(final) == []
    assert payment_split_due_order_ids(now=later()) == []

    refund_reject(merchant=final.merchant, case_id=case.pk, actor=None, reason="not broken")

    assert payment_split_due_order_ids(now=later()) == [final.pk]
    assert payment_split_order(order_id=final.pk, now=later()) == 5
    assert ("distributor", chain[3].pk, D("6.33")) in splits(final)


def test_a_share_paid_out_by_the_split_cannot_be_withdrawn_again(final, chain):
    payment_split_order(order_id=final.pk, now=later())
    wallet = Wallet.objects.get(distributor=chain[3])
    assert (wallet.available, wallet.withdrawn) == (D("0.00"), D("6.33"))

    with pytest.raises(DomainError) as refused:
        withdrawal_request(
            merchant=final.merchant, distributor=chain[3], amount="6.33", account="alipay:x"
        )

    assert refused.value.code == "insufficient_balance"
    wallet.refresh_from_db()
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        D("0.00"),
        D("0.00"),
        D("6.33"),
    )


def test_a_share_withdrawn_before_the_split_is_not_split_again(final, chain):
    withdrawal_request(
        merchant=final.merchant, distributor=chain[3], amount="6.33", account="alipay:x"
    )

    payment_split_order(order_id=final.pk, now=later())

    # nothing left available to chain[3]: their commission goes through the withdrawal alone
    assert splits(final) == [
        ("platform", None, D("0.63")),
        ("distributor", chain[2].pk, D("3.16")),
        ("distributor", chain[1].pk, D("1.26")),
        ("merchant", None, D("58.31")),
    ]
    wallet = Wallet.objects.get(distributor=chain[3])
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        D("0.00"),
        D("6.33"),
        D("0.00"),
    )
