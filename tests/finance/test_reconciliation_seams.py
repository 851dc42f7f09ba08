"""Reconciliation sees what the sandbox provider did for refunds (apps.refunds) and payouts
(apps.withdrawals): each is matched against its ledger journal by the idempotency key, and a movement
the provider has no record of is reported missing."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.selectors import Outcome, Period, reconciliation_rows
from apps.payments import tasks as payment_tasks
from apps.payments.models import SandboxTransaction
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import withdrawal_pay, withdrawal_request
from tests.refunds.conftest import notify
from tests.withdrawals.conftest import fund

pytestmark = pytest.mark.django_db
D = Decimal


def today() -> Period:
    return Period(start=timezone.localdate(), end=timezone.localdate())


def rows_of(merchant, kind: str) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
    label = dict(SandboxTransaction.Kind.choices)[kind]
    return [
        (row["outcome"], row["reference"], row["provider_amount"], row["ledger_amount"])
        for row in reconciliation_rows(merchant=merchant, period=today())
        if row["kind"] == label
    ]


@pytest.fixture
def refunded(merchant, customer, settled, monkeypatch, django_capture_on_commit_callbacks):
    """One unit (10.01) of the settled order's second line, refunded through the sandbox."""
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )
    line = settled.lines.get(unit_price=D("10.01"))
    case = refund_request(
        merchant=merchant,
        customer=customer,
        order_id=settled.pk,
        kind="quantity",
        reason="broken",
        lines=[RefundLineRequest(line.pk, quantity=1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    case.refresh_from_db()
    return case


def test_a_provider_refund_is_matched_with_its_refund_journal(merchant, refunded):
    assert rows_of(merchant, "refund") == [
        (Outcome.MATCHED, refunded.idempotency_key, D("10.01"), D("10.01"))
    ]


def test_a_refund_journal_the_provider_never_made_is_missing_at_the_provider(merchant, refunded):
    SandboxTransaction.objects.filter(kind="refund").delete()

    assert rows_of(merchant, "refund") == [
        (Outcome.MISSING_AT_PROVIDER, refunded.idempotency_key, None, D("10.01"))
    ]


@pytest.fixture
def paid(merchant, chain, monkeypatch):
    """A withdrawal of 200.00 (fee 1.50, no tax: net 198.50) paid through the sandbox."""
    from apps.withdrawals import tasks as withdrawal_tasks

    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", lambda *args: None)
    WithdrawalSettings.objects.create(
        merchant=merchant,
        minimum_amount=D("10.00"),
        fee_percent=D("1.50"),
        fee_free_amount=D("100.00"),
        review_required=False,
    )
    fund(chain[3], D("500.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=chain[3], amount="200.00", account="alipay:li"
    )
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == Withdrawal.Status.PAID
    withdrawal.refresh_from_db()
    assert withdrawal.net == D("198.50")
    return withdrawal


def test_a_paid_withdrawal_is_matched_with_its_paid_journal(merchant, paid):
    assert rows_of(merchant, "payout") == [
        (Outcome.MATCHED, paid.idempotency_key, D("198.50"), D("198.50"))
    ]
    provider = SandboxTransaction.objects.get(kind="payout")
    assert (provider.merchant_id, provider.provider_reference) == (
        merchant.pk,
        paid.provider_reference,
    )


def test_a_paid_withdrawal_the_provider_has_no_record_of_is_missing_at_the_provider(merchant, paid):
    SandboxTransaction.objects.filter(kind="payout").delete()

    assert rows_of(merchant, "payout") == [
        (Outcome.MISSING_AT_PROVIDER, paid.idempotency_key, None, D("198.50"))
    ]


def test_a_refused_payout_is_in_neither_book(merchant, chain, monkeypatch):
    from apps.withdrawals import tasks as withdrawal_tasks

    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", lambda *args: None)
    WithdrawalSettings.objects.create(merchant=merchant, review_required=False)
    fund(chain[3], D("50.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=chain[3], amount="50.00", account="fail-1"
    )

    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == Withdrawal.Status.FAILED
    assert rows_of(merchant, "payout") == []


def test_another_merchants_payout_is_not_in_the_merchants_reconciliation(
    merchant, other_merchant, paid
):
    assert rows_of(other_merchant, "payout") == []
