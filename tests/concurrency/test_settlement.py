from decimal import Decimal

import pytest

from apps.commissions.models import CommissionRecord
from apps.commissions.services import commission_release, commission_settle_orders
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, Wallet
from apps.orders.models import Order
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order
from tests.support.ledger import ledger_balances

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def order(merchant, customer, chain, settlements_enqueued):
    """Completed and committed: lines 1 × 33.33 and 3 × 10.01; upline chain[3], [2], [1]."""
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    order = completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
    assert settlements_enqueued == [order.pk]
    return order


def test_settlement_run_twice_at_once_settles_once(order, chain):
    # when two workers run the settlement of the same order at the same moment
    outcomes = race([lambda: commission_settle_orders(order_id=order.pk) for _ in range(2)])

    # then one created the six records and the other nothing
    assert [outcome.error for outcome in outcomes] == [None, None]
    assert sorted(outcome.value for outcome in outcomes) == [0, 6]
    assert CommissionRecord.objects.filter(order=order).count() == 6
    assert LedgerEntry.objects.filter(commission__isnull=False).count() == 6
    assert ledger_breaches() == []
    assert Order.objects.get(pk=order.pk).commission_status == Order.CommissionStatus.SETTLED
    # and each wallet was credited once, equal to its ledger
    expected = {chain[0]: D("0.00"), chain[1]: D("1.26"), chain[2]: D("3.16"), chain[3]: D("6.33")}
    for distributor, frozen in expected.items():
        assert Wallet.objects.get(distributor=distributor).frozen == frozen
        assert ledger_balances(distributor=distributor)["frozen"] == frozen


def test_settlement_run_eight_times_at_once_settles_once(order, chain):
    outcomes = race([lambda: commission_settle_orders(order_id=order.pk) for _ in range(8)])

    assert [outcome.error for outcome in outcomes] == [None] * 8
    assert sorted(outcome.value for outcome in outcomes) == [0] * 7 + [6]
    assert Wallet.objects.get(distributor=chain[3]).frozen == D("6.33")
    assert LedgerEntry.objects.filter(commission__isnull=False).count() == 6
    assert ledger_breaches() == []


def test_one_record_released_by_several_jobs_at_once_moves_once(order, chain):
    commission_settle_orders(order_id=order.pk)
    record = CommissionRecord.objects.get(beneficiary=chain[3], order_line__paid_amount=D("33.33"))

    outcomes = race(
        [lambda: commission_release(record_id=record.pk, now=record.release_at) for _ in range(5)]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 5
    assert sorted(outcome.value for outcome in outcomes) == [False] * 4 + [True]
    wallet = Wallet.objects.get(distributor=chain[3])
    assert (wallet.frozen, wallet.available) == (D("3.00"), D("3.33"))
    assert ledger_balances(distributor=chain[3]) == {
        "frozen": D("3.00"),
        "available": D("3.33"),
        "withdrawing": D("0.00"),
        "withdrawn": D("0.00"),
    }
    assert ledger_breaches() == []
