"""Payment splits executed through the provider once commission is final, once."""

from decimal import Decimal

import pytest
from django.db import transaction

from apps.commissions import tasks as commission_tasks
from apps.commissions.models import CommissionRecord
from apps.commissions.payment_splits import payment_split_due_order_ids, payment_split_order
from apps.commissions.services import (
    commission_release,
    commission_release_batch,
    commissions_release_due,
)
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Wallet
from apps.ledger.posting import Leg, ledger_post
from apps.payments.models import Payment, PaymentSplit, SandboxTransaction
from apps.payments.providers import SplitFailed, SplitReceiver
from apps.payments.providers.sandbox import SandboxProvider
from tests.factories import UserFactory
from tests.services.flows import completed_order

from .conftest import later, make_completed

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
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", enqueued.append)

    with django_capture_on_commit_callbacks(execute=True):
        commissions_release_due(now=later())

    assert enqueued == [settled.pk]  # six records released, one split enqueued


def test_a_batch_of_releases_enqueues_each_order_once(
    settled, merchant, chain, lines, monkeypatch, django_capture_on_commit_callbacks
):
    second = make_completed(
        merchant=merchant, customer=UserFactory(), distributor=chain[2], lines=lines
    )
    enqueued: list[int] = []
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", enqueued.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert commissions_release_due(now=later()) == 6 + 6

    assert enqueued == sorted([settled.pk, second.pk])
    # one note per release, the batch's event at its end, and its handler's one enqueue
    assert len(callbacks) == 12 + 1 + 1


def test_a_release_outside_a_batch_still_enqueues_its_order(
    settled, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[int] = []
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", enqueued.append)
    record = CommissionRecord.objects.filter(order=settled).order_by("id").first()

    with django_capture_on_commit_callbacks(execute=True):
        assert commission_release(record_id=record.pk, now=later()) is True

    assert enqueued == [settled.pk]


def test_a_batch_enqueues_no_order_whose_release_rolled_back(
    settled, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[int] = []
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", enqueued.append)
    record = CommissionRecord.objects.filter(order=settled).order_by("id").first()

    with django_capture_on_commit_callbacks(execute=True), commission_release_batch():
        try:
            with transaction.atomic():
                assert commission_release(record_id=record.pk, now=later()) is True
                raise RuntimeError("the batch's transaction fails")
        except RuntimeError:
            pass

    assert enqueued == []
    assert CommissionRecord.objects.get(pk=record.pk).status == "frozen"


def test_agency_margin_counts_as_commission_sent_to_others(final, chain, settings):
    """A margin record (差价) is money sent to a distributor: split, and under the cap."""
    settings.FENXIAO_SPLIT_MAX_PERCENT = D("20")
    line = final.lines.order_by("id").first()
    margin = CommissionRecord.objects.create(
        merchant_id=final.merchant_id,
        order=final,
        order_line=line,
        beneficiary=chain[3],
        level=1,
        kind=CommissionRecord.Kind.MARGIN,
        rule=CommissionRecord.Rule.AGENCY_MARGIN,
        base_amount=line.paid_amount,
        rate_percent=D("0"),
        amount=D("5.00"),
        status=CommissionRecord.Status.FROZEN,
        release_at=final.completed_at,
    )
    with transaction.atomic():
        ledger_post(
            merchant_id=final.merchant_id,
            kind="commission_earned",
            key=f"test-margin:{margin.pk}",
            order_id=final.pk,
            legs=[
                Leg("merchant_payable", D("-5.00")),
                Leg("frozen", D("5.00"), chain[3].pk, margin.pk),
            ],
        )
    assert commissions_release_due(now=later()) == 1

    payment_split_order(order_id=final.pk, now=later())

    # 20 % of 63.36 = 12.67: fee 0.63, level 1's 6.33 + 5.00 margin, then 0.71 of level 2
    assert splits(final) == [
        ("platform", None, D("0.63"), "done"),
        ("distributor", chain[3].pk, D("11.33"), "done"),
        ("distributor", chain[2].pk, D("0.71"), "done"),
        ("merchant", None, D("50.69"), "done"),
    ]


def test_a_released_record_is_split_at_most_what_the_ledger_still_holds(final, chain):
    """A refund that reversed part of a released record in the ledger (before or without
    reducing the stored amount) lowers that distributor's share: never split what was reversed."""
    record = CommissionRecord.objects.filter(order=final, level=1).order_by("id").first()
    with transaction.atomic():
        ledger_post(
            merchant_id=final.merchant_id,
            kind="commission_reversed",
            key=f"test-reversal:{record.pk}",
            order_id=final.pk,
            legs=[
                Leg("available", D("-2.00"), chain[3].pk, record.pk),
                Leg("merchant_payable", D("2.00")),
            ],
        )

    payment_split_order(order_id=final.pk, now=later())

    assert ("distributor", chain[3].pk, D("4.33"), "done") in splits(final)


def test_a_record_in_an_unknown_state_holds_the_split_back(final):
    """Fails closed: only released or cancelled records make the commission final."""
    CommissionRecord.objects.filter(order=final, level=3).update(status="reversing")

    assert payment_split_order(order_id=final.pk, now=later()) == 0
    assert splits(final) == []
    assert payment_split_due_order_ids(now=later()) == []


def test_the_sweeper_enqueues_each_due_order(final, monkeypatch):
    enqueued: list[int] = []
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", enqueued.append)
    monkeypatch.setattr(
        commission_tasks,
        "payment_split_due_order_ids",
        lambda: payment_split_due_order_ids(now=later()),
    )

    assert commission_tasks.payments_sweep_splits() == 1
    assert enqueued == [final.pk]


def test_a_distributor_earning_at_two_levels_of_one_order_gets_one_share(final, chain):
    # chain[2] is level 2 of the order and also sold one line through its micro-shop (agency
    # margin at level 1): two released records of one distributor on one order.
    line = final.lines.order_by("id").first()
    margin = CommissionRecord.objects.create(
        merchant=final.merchant,
        order=final,
        order_line=line,
        beneficiary=chain[2],
        level=1,
        kind=CommissionRecord.Kind.MARGIN,
        rule=CommissionRecord.Rule.AGENCY_MARGIN,
        base_amount=line.paid_amount,
        rate_percent=D("0.00"),
        amount=D("2.00"),
        release_at=later(),
    )
    with transaction.atomic():
        for kind, legs in (
            ("commission_earned", [("merchant_payable", D("-2.00")), ("frozen", D("2.00"))]),
            ("commission_released", [("frozen", D("-2.00")), ("available", D("2.00"))]),
        ):
            ledger_post(
                merchant_id=final.merchant_id,
                kind=kind,
                key=f"test:{kind}:{margin.pk}",
                legs=[
                    Leg(
                        account,
                        amount,
                        distributor_id=None if account == "merchant_payable" else chain[2].pk,
                        commission_id=None if account == "merchant_payable" else margin.pk,
                    )
                    for account, amount in legs
                ],
            )
        CommissionRecord.objects.filter(pk=margin.pk).update(
            status=CommissionRecord.Status.RELEASED
        )

    assert payment_split_order(order_id=final.pk, now=later()) == 5

    assert splits(final) == [
        ("platform", None, D("0.63"), "done"),
        # both at level 1 now (chain[2] by its margin): nearest level first, then by id
        ("distributor", chain[2].pk, D("5.16"), "done"),
        ("distributor", chain[3].pk, D("6.33"), "done"),
        ("distributor", chain[1].pk, D("1.26"), "done"),
        ("merchant", None, D("49.98"), "done"),
    ]
    wallet = Wallet.objects.get(distributor=chain[2])
    assert (wallet.available, wallet.withdrawn) == (D("0.00"), D("5.16"))
    assert ledger_breaches() == []
