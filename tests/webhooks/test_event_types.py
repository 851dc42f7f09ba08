"""Every step of refunds, settlement and withdrawals reaches the merchant's endpoint as its event,
with the payload of the object as it stands after the step, written in the step's transaction."""

from decimal import Decimal

import pytest
from django.db import transaction

from apps.commissions.models import CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.ledger.models import Journal, LedgerEntry
from apps.ledger.posting import Leg, ledger_post
from apps.payments import tasks as payment_tasks
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_approve, refund_cancel, refund_reject, refund_request
from apps.webhooks import tasks as webhook_tasks
from apps.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import WithdrawalSettings
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
)
from tests.factories import SkuFactory
from tests.refunds.conftest import notify
from tests.services.flows import bind, completed_order

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(merchant):
    return WebhookEndpoint.objects.create(merchant=merchant, url="http://127.0.0.1:9/hook")


@pytest.fixture
def enqueued(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(webhook_tasks.webhook_deliver_task, "delay", sent.append)
    monkeypatch.setattr(payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *a: 0)
    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", lambda *a: 0)
    return sent


@pytest.fixture
def completed(merchant, customer, chain, enqueued):
    """Completed, unsettled: 2 × 50.00 bought through chain[3] (levels 1–3: chain[3], [2], [1])."""
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    sku = SkuFactory(product__merchant=merchant, price=D("50.00"), stock=10)
    return completed_order(merchant=merchant, customer=customer, lines=[(sku, 2)])


def deliveries(*types: str) -> list[tuple[str, dict]]:
    found = WebhookDelivery.objects.order_by("pk")
    if types:
        found = found.filter(event_type__in=types)
    return [(delivery.event_type, delivery.payload["data"]) for delivery in found]


def refund_data(case: RefundCase, status: str) -> dict:
    return {
        "refund": {
            "id": case.pk,
            "order_id": case.order_id,
            "kind": case.kind,
            "status": status,
            "amount": str(case.amount),
            "goods_amount": str(case.goods_amount),
            "shipping_amount": str(case.shipping_amount),
        }
    }


def ask(order) -> RefundCase:
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=RefundCase.Kind.ORDER,
        reason="broken",
    )


def test_every_event_type_is_one_the_handlers_send():
    assert {"refund.requested", "refund.approved", "refund.rejected", "refund.refunded"} <= set(
        EVENT_TYPES
    )
    assert {"refund.failed", "refund.cancelled", "commission.settled"} <= set(EVENT_TYPES)
    assert {
        "withdrawal.requested",
        "withdrawal.approved",
        "withdrawal.rejected",
        "withdrawal.paid",
        "withdrawal.failed",
    } <= set(EVENT_TYPES)
    assert "refund.refunding" not in EVENT_TYPES and "withdrawal.paying" not in EVENT_TYPES


def test_settlement_sends_commission_settled_with_the_records(
    completed, endpoint, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert commission_settle_orders(order_id=completed.pk) == 3

    records = list(CommissionRecord.objects.filter(order=completed).order_by("pk"))
    ((event_type, data),) = deliveries("commission.settled")
    assert event_type == "commission.settled"
    assert data == {
        "order_id": completed.pk,
        "records": [
            {
                "id": record.pk,
                "order_id": completed.pk,
                "order_line_id": record.order_line_id,
                "distributor_id": record.beneficiary_id,
                "level": record.level,
                "kind": record.kind,
                "amount": str(record.amount),
                "reversed_amount": "0.00",
                "status": "frozen",
            }
            for record in records
        ],
    }
    assert [r["amount"] for r in data["records"]] == ["10.00", "5.00", "2.00"]
    settled = WebhookDelivery.objects.get(event_type="commission.settled")
    assert settled.pk in enqueued
    # settled again (a retried task): nothing more is sent
    assert commission_settle_orders(order_id=completed.pk) == 0
    assert len(deliveries("commission.settled")) == 1


def test_a_refund_sends_requested_approved_refunded(
    completed, endpoint, enqueued, django_capture_on_commit_callbacks
):
    commission_settle_orders(order_id=completed.pk)
    case = ask(completed)
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=completed.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    case.refresh_from_db()

    assert deliveries("refund.requested", "refund.approved", "refund.refunded") == [
        ("refund.requested", refund_data(case, "requested")),
        ("refund.approved", refund_data(case, "approved")),
        ("refund.refunded", refund_data(case, "refunded")),
    ]
    assert not WebhookDelivery.objects.filter(event_type="refund.refunding").exists()


def test_a_refund_sends_rejected_cancelled_and_failed(
    completed, endpoint, enqueued, django_capture_on_commit_callbacks
):
    merchant = completed.merchant
    rejected = ask(completed)
    refund_reject(merchant=merchant, case_id=rejected.pk, actor=None, reason="used")
    withdrawn = ask(completed)
    refund_cancel(merchant=merchant, customer=completed.customer, case_id=withdrawn.pk)
    failing = ask(completed)
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=merchant, case_id=failing.pk, actor=None)
    assert notify(failing, succeeded=False) == "failed"

    assert deliveries("refund.rejected", "refund.cancelled", "refund.failed") == [
        ("refund.rejected", refund_data(rejected, "rejected")),
        ("refund.cancelled", refund_data(withdrawn, "cancelled")),
        ("refund.failed", refund_data(failing, "failed")),
    ]


def test_a_refund_step_that_rolls_back_sends_nothing(completed, endpoint, enqueued):
    case = ask(completed)
    before = WebhookDelivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        refund_reject(merchant=completed.merchant, case_id=case.pk, actor=None, reason="used")
        raise RuntimeError("the transaction fails after the step")
    assert WebhookDelivery.objects.count() == before
    assert not WebhookDelivery.objects.filter(event_type="refund.rejected").exists()


def fund(distributor, amount: Decimal) -> None:
    with transaction.atomic():
        ledger_post(
            merchant_id=distributor.merchant_id,
            kind=Journal.Kind.ADJUSTMENT,
            key=f"test-fund:{distributor.pk}:{amount}",
            legs=[
                Leg(LedgerEntry.Account.MERCHANT_PAYABLE, -amount),
                Leg(LedgerEntry.Account.AVAILABLE, amount, distributor.pk),
            ],
            memo="test funding",
        )


def withdrawal_data(withdrawal, status: str) -> dict:
    return {
        "withdrawal": {
            "id": withdrawal.pk,
            "distributor_id": withdrawal.distributor_id,
            "supplier_id": None,
            "status": status,
            "amount": str(withdrawal.amount),
            "fee": str(withdrawal.fee),
            "tax": str(withdrawal.tax),
            "net": str(withdrawal.net),
        }
    }


def test_withdrawals_send_requested_approved_paid_rejected_failed(
    merchant, chain, staff_user, endpoint, enqueued
):
    WithdrawalSettings.objects.create(merchant=merchant, minimum_amount=D("10.00"))
    distributor = chain[3]
    fund(distributor, D("500.00"))

    def ask_for(amount: str, account: str = "alipay:li"):
        return withdrawal_request(
            merchant=merchant, distributor=distributor, amount=amount, account=account
        )

    paid = ask_for("100.00")
    withdrawal_approve(merchant=merchant, withdrawal_id=paid.pk, actor=staff_user)
    assert withdrawal_pay(withdrawal_id=paid.pk) == "paid"
    rejected = ask_for("50.00")
    withdrawal_reject(merchant=merchant, withdrawal_id=rejected.pk, actor=staff_user, reason="no")
    failed = ask_for("20.00", account="fail-closed-account")
    withdrawal_approve(merchant=merchant, withdrawal_id=failed.pk, actor=staff_user)
    assert withdrawal_pay(withdrawal_id=failed.pk) == "failed"

    assert deliveries() == [
        ("withdrawal.requested", withdrawal_data(paid, "requested")),
        ("withdrawal.approved", withdrawal_data(paid, "approved")),
        ("withdrawal.paid", withdrawal_data(paid, "paid")),
        ("withdrawal.requested", withdrawal_data(rejected, "requested")),
        ("withdrawal.rejected", withdrawal_data(rejected, "rejected")),
        ("withdrawal.requested", withdrawal_data(failed, "requested")),
        ("withdrawal.approved", withdrawal_data(failed, "approved")),
        ("withdrawal.failed", withdrawal_data(failed, "failed")),
    ]


def test_another_merchants_steps_reach_only_its_own_endpoints(completed, other_merchant, enqueued):
    WebhookEndpoint.objects.create(merchant=other_merchant, url="http://127.0.0.1:9/hook")
    commission_settle_orders(order_id=completed.pk)
    ask(completed)
    assert WebhookDelivery.objects.count() == 0
