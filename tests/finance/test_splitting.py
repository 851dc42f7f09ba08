"""Payment splits executed through the provider once commission is final, once."""

from decimal import Decimal

import pytest

from apps.commissions.models import CommissionRecord, Wallet
from apps.commissions.services import commissions_release_due
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment, PaymentSplit, SandboxTransaction
from apps.payments.providers import SplitFailed, SplitReceiver
from apps.payments.providers.sandbox import SandboxProvider
from apps.payments.splitting import payment_split_due_order_ids, payment_split_order
from tests.services.flows import completed_order

from .conftest import later

D = Decimal


def splits(order):
    return list(
        PaymentSplit.objects.filter(payment__order=order)
        .order_by("id")
        .values_list("receiver", "distributor_id", "amount", "status")
    )


def test_final_commission_is_split_to_platform_distributors_and_merchant(final, chain):
    payment = Payment.objects.get(order=final)
    assert (payment.amount, payment.platform_fee) == (D("63.36"), D("0.63"))

    sent = payment_split_order(order_id=final.pk, now=later())

    assert sent == 5
    assert splits(final) == [
        ("platform", None, D("0.63"), "done"),
        ("distributor", chain[3].pk, D("6.33"), "done"),
        ("distributor", chain[2].pk, D("3.16"), "done"),
        ("distributor", chain[1].pk, D("1.26"), "done"),
        ("merchant", None, D("51.98"), "done"),
    ]
    # the sandbox's own books: one split order per row, under the row's key
    assert sorted(
        SandboxTransaction.objects.filter(kind="split").values_list("reference", "amount")
    ) == sorted(PaymentSplit.objects.values_list("idempotency_key", "amount"))
    assert all(PaymentSplit.objects.values_list("provider_reference", flat=True))
    # the distributors' shares were paid out of their available balances
    assert Wallet.objects.get(distributor=chain[3]).available == D("0.00")
    assert Wallet.objects.get(distributor=chain[3]).withdrawn == D("6.33")


def test_run_again_splits_nothing_more(final):
    payment_split_order(order_id=final.pk, now=later())
    before = splits(final)

    assert payment_split_order(order_id=final.pk, now=later()) == 0
    assert payment_split_order(order_id=final.pk, now=later()) == 0

    assert splits(final) == before
    assert SandboxTransaction.objects.filter(kind="split").count() == 5


def test_commission_above_the_cap_is_not_split(final, chain, settings):
    settings.FENXIAO_SPLIT_MAX_PERCENT = D("10")

    payment_split_order(order_id=final.pk, now=later())

    # 10 % of 63.36 = 6.336 → 6.33: fee 0.63 first, then 5.70 of level 1's 6.33
    assert splits(final) == [
        ("platform", None, D("0.63"), "done"),
        ("distributor", chain[3].pk, D("5.70"), "done"),
        ("merchant", None, D("57.03"), "done"),
    ]
    # what was not split stays available, to be withdrawn from the merchant's share
    assert Wallet.objects.get(distributor=chain[3]).available == D("0.63")
    assert Wallet.objects.get(distributor=chain[2]).available == D("3.16")


def test_nothing_is_split_while_commission_is_frozen(settled):
    assert payment_split_order(order_id=settled.pk, now=later()) == 0
    assert splits(settled) == []
    assert payment_split_due_order_ids(now=later()) == []


def test_nothing_is_split_before_the_after_sale_window_closes(final):
    assert payment_split_order(order_id=final.pk) == 0
    assert splits(final) == []


def test_a_cancelled_record_is_final_and_earns_no_share(settled, chain):
    CommissionRecord.objects.filter(order=settled, beneficiary=chain[1]).update(
        status=CommissionRecord.Status.CANCELLED
    )
    commissions_release_due(now=later())

    payment_split_order(order_id=settled.pk, now=later())

    assert [row[1] for row in splits(settled) if row[0] == "distributor"] == [
        chain[3].pk,
        chain[2].pk,
    ]


def test_the_sweeper_finds_due_and_failed_splits(final, monkeypatch):
    assert payment_split_due_order_ids(now=later()) == [final.pk]

    def refuse(self, payment, receivers, idempotency_key):
        raise SplitFailed("provider busy")

    monkeypatch.setattr(SandboxProvider, "split", refuse)
    assert payment_split_order(order_id=final.pk, now=later()) == 0
    assert {row[3] for row in splits(final)} == {"failed"}
    assert PaymentSplit.objects.filter(failure_reason="provider busy").count() == 5
    assert payment_split_due_order_ids(now=later()) == [final.pk]

    monkeypatch.undo()
    assert payment_split_order(order_id=final.pk, now=later()) == 5
    assert {row[3] for row in splits(final)} == {"done"}
    assert payment_split_due_order_ids(now=later()) == []


def test_an_order_without_commission_is_split_after_the_window(merchant, customer, lines):
    order = completed_order(merchant=merchant, customer=customer, lines=lines)

    assert payment_split_due_order_ids(now=later()) == [order.pk]
    assert payment_split_order(order_id=order.pk, now=later()) == 2
    assert splits(order) == [
        ("platform", None, D("0.63"), "done"),
        ("merchant", None, D("62.73"), "done"),
    ]


@pytest.mark.parametrize("runs", [1, 3])
def test_the_sandbox_split_is_idempotent_per_key(final, runs):
    payment = Payment.objects.get(order=final)
    provider = SandboxProvider()
    receiver = SplitReceiver(receiver="platform", account="platform", amount=D("0.63"))
    references = {
        provider.split(payment, [receiver], "KEY-1").provider_reference for _ in range(runs)
    }

    assert len(references) == 1
    assert SandboxTransaction.objects.filter(kind="split", reference="KEY-1").count() == 1
    with pytest.raises(SplitFailed):
        provider.split(
            payment,
            [SplitReceiver(receiver="platform", account="platform", amount=D("0.64"))],
            "KEY-1",
        )


def test_releasing_commission_enqueues_the_split_after_commit(
    settled, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[int] = []
    monkeypatch.setattr(payment_tasks.payment_split_order_task, "delay", enqueued.append)

    with django_capture_on_commit_callbacks(execute=True):
        commissions_release_due(now=later())

    assert enqueued == [settled.pk] * 6


def test_the_sweeper_enqueues_each_due_order(final, monkeypatch):
    enqueued: list[int] = []
    monkeypatch.setattr(payment_tasks.payment_split_order_task, "delay", enqueued.append)
    monkeypatch.setattr(
        payment_tasks,
        "payment_split_due_order_ids",
        lambda: payment_split_due_order_ids(now=later()),
    )

    assert payment_tasks.payments_sweep_splits() == 1
    assert enqueued == [final.pk]
