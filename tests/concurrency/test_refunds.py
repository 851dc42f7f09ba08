"""Refunds under real concurrency: real commits, threads released together, own connections."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from apps.commissions.models import CommissionRecord, CommissionReversal
from apps.commissions.services import commission_release, commission_settle_orders
from apps.core.errors import Conflict
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Wallet
from apps.payments import tasks as payment_tasks
from apps.payments.providers.sandbox import SandboxProvider
from apps.products.models import Sku
from apps.refunds import selectors as refund_selectors
from apps.refunds.models import RefundCase, RefundCaseLine
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from apps.refunds.services import requesting as refund_requesting
from apps.tenancy.scope import owner_connection
from tests.factories import SkuFactory
from tests.refunds.conftest import notify
from tests.services.flows import bind, completed_order

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
K = RefundCase.Kind


@pytest.fixture
def provider_refunds(monkeypatch):
    """Every refund the sandbox provider is asked to execute (and its deliveries not published)."""
    calls: list[str] = []
    original = SandboxProvider.refund

    def counting(self, payment, amount, idempotency_key):  # type: ignore[no-untyped-def]
        calls.append(idempotency_key)
        return original(self, payment, amount, idempotency_key)

    monkeypatch.setattr(SandboxProvider, "refund", counting)
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )
    return calls


@pytest.fixture
def order(merchant, customer, chain, settlements_enqueued, provider_refunds):
    """Completed, settled and committed: 1 × 33.33 and 3 × 10.01; upline chain[3], [2], [1]."""
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    order = completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
    assert commission_settle_orders(order_id=order.pk) == 6
    return order


def _request(order, kind, lines=None):  # type: ignore[no-untyped-def]
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=kind,
        reason="broken",
        lines=lines,
    )


def _balances_match_records(distributors) -> None:  # type: ignore[no-untyped-def]
    for distributor in distributors:
        earned = CommissionRecord.objects.filter(beneficiary=distributor).aggregate(
            total=Sum("amount")
        )["total"]
        reversed_ = CommissionReversal.objects.filter(beneficiary=distributor).aggregate(
            total=Sum("amount")
        )["total"] or D("0.00")
        wallet = Wallet.objects.get(distributor=distributor)
        assert earned - reversed_ == wallet.frozen + wallet.available
    assert ledger_breaches() == []


def test_concurrent_cases_over_one_line_cannot_exceed_what_is_refundable(order):
    line = order.lines.get(quantity=3)  # paid 30.03
    outcomes = race(
        [
            lambda: _request(order, K.AMOUNT, [RefundLineRequest(line.pk, amount="10.00")])
            for _ in range(8)
        ]
    )

    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(errors) == 5
    assert {error.code for error in errors} == {"amount_exceeds_refundable"}  # type: ignore[attr-defined]
    assert RefundCase.objects.count() == 3
    held = RefundCaseLine.objects.filter(order_line=line).aggregate(amount=Sum("amount"))
    assert held["amount"] == D("30.00")


def test_concurrent_whole_line_and_quantity_cases_hold_at_most_the_line(order):
    line = order.lines.get(quantity=3)
    outcomes = race(
        [lambda: _request(order, K.LINE, [RefundLineRequest(line.pk)]) for _ in range(3)]
        + [
            lambda: _request(order, K.QUANTITY, [RefundLineRequest(line.pk, quantity=2)])
            for _ in range(3)
        ]
    )

    assert all(isinstance(o.error, Conflict) for o in outcomes if o.error is not None)
    held = RefundCaseLine.objects.filter(order_line=line).aggregate(
        amount=Sum("amount"), units=Sum("quantity")
    )
    assert held["amount"] == D("30.03")  # a whole line, or 2 units then the last one
    assert held["units"] == 3


def test_double_approval_racing_is_one_provider_refund(order, provider_refunds):
    case = _request(order, K.ORDER)
    outcomes = race(
        [
            lambda: refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
            for _ in range(4)
        ]
    )

    assert sum(outcome.error is None for outcome in outcomes) == 1
    assert all(
        isinstance(outcome.error, Conflict) for outcome in outcomes if outcome.error is not None
    )
    assert provider_refunds == [case.idempotency_key]
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDING


def test_duplicate_notifications_racing_refund_once(order, chain):
    case = _request(order, K.ORDER)
    refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    outcomes = race([lambda: notify(case) for _ in range(4)])

    assert sorted(outcome.value for outcome in outcomes) == ["duplicate"] * 3 + ["refunded"]
    assert CommissionReversal.objects.count() == 6
    # the goods were shipped and kept: no stock comes back
    assert sorted(Sku.objects.filter(merchant=order.merchant).values_list("stock", flat=True)) == [
        7,
        9,
    ]
    _balances_match_records(chain[1:])


@pytest.mark.parametrize("trial", range(4))
def test_refund_racing_the_release_of_the_same_record_ends_consistent(order, chain, trial):
    line = order.lines.get(quantity=1)
    record = CommissionRecord.objects.get(order_line=line, level=1)

    def refund_the_line() -> str:
        case = _request(order, K.LINE, [RefundLineRequest(line.pk)])
        refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
        return notify(case)

    outcomes = race(
        [lambda: commission_release(record_id=record.pk, now=record.release_at), refund_the_line]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    released, refunded = outcomes[0].value, outcomes[1].value
    assert refunded == "refunded"
    record.refresh_from_db()
    assert record.reversed_amount == record.amount == D("3.33")
    reversal = CommissionReversal.objects.get(record=record)
    wallet = Wallet.objects.get(distributor=chain[3])
    if released:
        # released first: the refund took it back from the available balance
        assert (record.status, reversal.from_status) == ("released", "released")
        assert (wallet.frozen, wallet.available) == (D("3.00"), D("0.00"))
    else:
        # the case opened first: the release waited, saw it, and left the record frozen
        assert (record.status, reversal.from_status) == ("cancelled", "frozen")
        assert (wallet.frozen, wallet.available) == (D("3.00"), D("0.00"))
    _balances_match_records(chain[1:])


def _slowed(monkeypatch, module, name: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Make ``module.name`` pause after it ran (the caller keeps its locks meanwhile)."""
    original = getattr(module, name)

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        time.sleep(seconds)
        return result

    monkeypatch.setattr(module, name, slow)


def _late(call, seconds: float = 0.2):  # type: ignore[no-untyped-def]
    def later():  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return call()

    return later


def test_release_holding_the_lock_first_then_the_refund_takes_from_available(
    order, chain, monkeypatch
):
    """The release has the order locked when the request arrives: the request waits, the record is
    released, and the refund later takes it back from the available balance."""
    line = order.lines.get(quantity=1)
    record = CommissionRecord.objects.get(order_line=line, level=1)
    _slowed(monkeypatch, refund_selectors, "refund_case_open_on_line", 0.8)

    outcomes = race(
        [
            lambda: commission_release(record_id=record.pk, now=record.release_at),
            _late(lambda: _request(order, K.LINE, [RefundLineRequest(line.pk)])),
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    assert outcomes[0].value is True
    case = outcomes[1].value
    refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    record.refresh_from_db()
    assert (record.status, record.reversed_amount) == ("released", D("3.33"))
    assert CommissionReversal.objects.get(record=record).from_status == "released"
    wallet = Wallet.objects.get(distributor=chain[3])
    assert (wallet.frozen, wallet.available) == (D("3.00"), D("0.00"))
    _balances_match_records(chain[1:])


def test_request_holding_the_lock_first_then_the_release_waits_and_refuses(
    order, chain, monkeypatch
):
    """The request has the order locked when the release arrives: the release waits, sees the
    open case, and leaves the record frozen; the refund then cancels it."""
    line = order.lines.get(quantity=1)
    record = CommissionRecord.objects.get(order_line=line, level=1)
    _slowed(monkeypatch, refund_requesting, "refundable_lines", 0.8)

    outcomes = race(
        [
            lambda: _request(order, K.LINE, [RefundLineRequest(line.pk)]),
            _late(lambda: commission_release(record_id=record.pk, now=record.release_at)),
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    assert outcomes[1].value is False
    case = outcomes[0].value
    refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    record.refresh_from_db()
    assert (record.status, record.reversed_amount) == ("cancelled", D("3.33"))
    assert CommissionReversal.objects.get(record=record).from_status == "frozen"
    wallet = Wallet.objects.get(distributor=chain[3])
    assert (wallet.frozen, wallet.available) == (D("3.00"), D("0.00"))
    _balances_match_records(chain[1:])


def test_a_refund_takes_wallet_locks_in_distributor_order(order, chain):
    """Clawback journals go record by record (level 1 first: child before ancestor); the wallets
    must still be locked by distributor id, as settlement and splits lock them, or a refund and a
    settlement in the same team deadlock. While the refund waits for the lowest-id wallet, it holds
    none of the others."""
    case = _request(order, K.ORDER)
    refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    lowest, highest = min(chain[1:], key=lambda d: d.pk), max(chain[1:], key=lambda d: d.pk)
    holding = threading.Event()
    done = threading.Event()

    def hold_lowest_wallet() -> None:
        try:
            with transaction.atomic():
                list(Wallet.objects.select_for_update().filter(distributor=lowest))
                holding.set()
                done.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lowest_wallet)
    holder.start()
    assert holding.wait(10)
    refund = threading.Thread(target=lambda: (notify(case), connection.close()))
    refund.start()
    try:
        deadline = time.monotonic() + 20
        # As the owner: the application role sees no other session's state.
        with owner_connection("test: sessions waiting"), connections["default"].cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the refund never waited for the held wallet")
            with transaction.atomic():
                cursor.execute(
                    "SELECT id FROM commissions_wallet WHERE distributor_id = %s FOR UPDATE NOWAIT",
                    [highest.pk],
                )
    finally:
        done.set()
        holder.join(30)
        refund.join(30)
    assert RefundCase.objects.get(pk=case.pk).status == RefundCase.Status.REFUNDED
    _balances_match_records(chain[1:])
