from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions.services import commission_settle_orders, commissions_release_due
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order

D = Decimal
AFTER_WINDOW = timedelta(days=8)  # the plan's 7 freeze days have passed


def later():
    return timezone.now() + AFTER_WINDOW


@pytest.fixture
def lines(merchant):
    """1 × 33.33 and 3 × 10.01: 63.36 paid; platform fee 1 % = 0.63."""
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    return [(first, 1), (second, 3)]


def make_completed(*, merchant, customer, distributor, lines):
    bind(merchant=merchant, customer=customer, distributor=distributor)
    order = completed_order(merchant=merchant, customer=customer, lines=lines)
    commission_settle_orders(order_id=order.pk)
    return order


@pytest.fixture
def settled(merchant, customer, chain, lines):
    """Completed and settled (frozen): levels 1–3 earn 6.33, 3.16, 1.26 (chain[3], [2], [1])."""
    return make_completed(merchant=merchant, customer=customer, distributor=chain[3], lines=lines)


@pytest.fixture
def final(settled):
    """The same order after the after-sale window: every record released."""
    assert commissions_release_due(now=later()) == 6
    return settled
