"""A completed, settled order through a three-level chain, and the provider's side of refunds."""

from decimal import Decimal

import pytest

from apps.commissions.services import commission_settle_orders
from apps.payments import tasks as payment_tasks
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_refund_no,
    sandbox_refund_notification_body,
    sandbox_sign,
)
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_handle_notification
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order

D = Decimal


def refund_notification(
    case: RefundCase, *, succeeded: bool = True, amount: Decimal | None = None
) -> tuple[bytes, dict[str, str]]:
    body = sandbox_refund_notification_body(
        out_refund_no=case.idempotency_key,
        provider_refund_no=sandbox_refund_no(case.idempotency_key),
        amount=case.amount if amount is None else amount,
        succeeded=succeeded,
    )
    return body, {SIGNATURE_HEADER: sandbox_sign(body)}


def notify(case: RefundCase, *, succeeded: bool = True) -> str:
    body, headers = refund_notification(case, succeeded=succeeded)
    return refund_handle_notification(provider="sandbox", body=body, headers=headers)


@pytest.fixture
def refund_deliveries(monkeypatch):
    """The sandbox's refund notifications, recorded instead of published."""
    calls: list[tuple[str, str, str]] = []
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification,
        "delay",
        lambda *args: calls.append(args),
    )
    return calls


@pytest.fixture
def skus(merchant):
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    return first, second


@pytest.fixture
def settled(merchant, customer, chain, skus, refund_deliveries):
    """Completed and settled: 1 × 33.33 and 3 × 10.01 (30.03); levels 1–3 are chain[3], [2], [1].

    Records on the first line 3.33 / 1.66 / 0.66, on the second 3.00 / 1.50 / 0.60.
    """
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first, second = skus
    order = completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
    assert commission_settle_orders(order_id=order.pk) == 6
    return order


@pytest.fixture(autouse=True)
def ledger_stays_sound(request):
    """After every database test of refunds: every ledger invariant holds (manage.py ledger_check)."""
    yield
    if request.node.get_closest_marker("django_db") is not None:
        from apps.ledger.checks import ledger_breaches

        assert ledger_breaches() == []
