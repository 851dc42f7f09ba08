"""``manage.py ledger_check`` on payment splits: sound after a real split, each breach reported."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.commissions.payment_splits import payment_split_order
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Wallet
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment, PaymentSplit
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from tests.refunds.conftest import notify

from .conftest import later

D = Decimal


@pytest.fixture
def split(final):
    assert payment_split_order(order_id=final.pk, now=later()) == 5
    return Payment.objects.get(order=final)


def test_a_real_split_passes_the_check(split, capsys):
    call_command("ledger_check")

    assert capsys.readouterr().out.startswith("ledger ok:")


def test_split_rows_adding_up_to_less_than_the_payment_kept_are_reported(split):
    merchant_row = PaymentSplit.objects.get(payment=split, receiver="merchant")
    PaymentSplit.objects.filter(pk=merchant_row.pk).update(amount=D("51.00"))  # 51.98 before

    assert ledger_breaches() == [
        f"payment {split.pk} (63.36, 0.00 refunded): its split rows add up to 62.38"
    ]


def test_split_rows_above_the_payment_are_reported(split):
    PaymentSplit.objects.filter(payment=split, receiver="merchant").update(amount=D("52.98"))

    assert ledger_breaches() == [
        f"payment {split.pk} (63.36, 0.00 refunded): its split rows add up to 64.36"
    ]


def test_shares_sent_to_others_above_the_cap_are_reported(split, settings):
    settings.FENXIAO_SPLIT_MAX_PERCENT = D("15")  # 15 % of 63.36 = 9.50 < 11.38 sent to others

    assert ledger_breaches() == [
        f"payment {split.pk}: 11.38 of its 63.36 split is sent to others, above the 15% cap"
    ]


def test_a_platform_share_moved_above_the_cap_is_reported(split):
    PaymentSplit.objects.filter(payment=split, receiver="platform").update(amount=D("9.63"))
    PaymentSplit.objects.filter(payment=split, receiver="merchant").update(amount=D("42.98"))

    assert ledger_breaches() == [
        f"payment {split.pk}: 20.38 of its 63.36 split is sent to others, above the 30% cap"
    ]


def test_a_distributor_share_that_differs_from_its_journal_is_reported(split, chain):
    row = PaymentSplit.objects.get(payment=split, distributor=chain[3])
    PaymentSplit.objects.filter(pk=row.pk).update(amount=D("6.00"))
    PaymentSplit.objects.filter(payment=split, receiver="merchant").update(amount=D("52.31"))

    assert ledger_breaches() == [
        f"split {row.pk} ({row.idempotency_key}, 6.00 to distributor {chain[3].pk}): legs "
        "[available -6.33, withdrawn 6.33]"
    ]


def test_a_split_journal_without_its_row_is_reported(split, chain):
    row = PaymentSplit.objects.get(payment=split, distributor=chain[1])
    PaymentSplit.objects.filter(pk=row.pk).update(idempotency_key="SPL-renamed")

    assert ledger_breaches() == [
        f"split {row.pk} (SPL-renamed, 1.26 to distributor {chain[1].pk}): legs []",
        f"split journal split:{row.idempotency_key} has no split row: legs "
        "[available -1.26, withdrawn 1.26]",
    ]


def test_split_rows_on_a_payment_that_took_no_money_are_reported(split):
    Payment.objects.filter(pk=split.pk).update(status=Payment.Status.CLOSED)

    breaches = ledger_breaches()

    assert f"payment {split.pk} (closed) took no money but has split rows of 63.36" in breaches


def test_the_command_exits_non_zero_on_a_split_breach(split, capsys):
    PaymentSplit.objects.filter(payment=split, receiver="merchant").update(amount=D("50.00"))

    with pytest.raises(CommandError, match="1 breach"):
        call_command("ledger_check")

    assert "its split rows add up to 61.38" in capsys.readouterr().err


def test_a_refund_after_the_split_is_no_breach(
    split, chain, monkeypatch, django_capture_on_commit_callbacks
):
    """The split keeps what the payment kept when it ran; a later refund (a real one: its case,
    the provider, its journal ``refund:<case>``) lowers only the kept, and the clawback of the
    records already paid out by the split leaves a debt on the available balances."""
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )
    order = split.order
    line = order.lines.get(unit_price=D("10.01"))
    case = refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind="quantity",
        reason="broken",
        lines=[RefundLineRequest(line.pk, quantity=1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"

    assert ledger_breaches() == []
    assert sum(PaymentSplit.objects.filter(payment=split).values_list("amount", flat=True)) == D(
        "63.36"
    )  # more than the 53.35 kept now: the refund came after the split
    assert [
        Wallet.objects.get(distributor=distributor).available
        for distributor in (chain[3], chain[2], chain[1])
    ] == [D("-1.00"), D("-0.50"), D("-0.20")]  # a third of each line-2 record, taken back
