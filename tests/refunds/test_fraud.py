from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.refunds.selectors import refund_rate_by_distributor
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from tests.factories import UserFactory
from tests.services.flows import bind, paid_order

from .conftest import notify

pytestmark = pytest.mark.django_db
D = Decimal


def test_refund_rate_per_level_one_distributor(
    merchant,
    settled,
    chain,
    skus,
    customer,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    # settled: 63.36 paid through chain[3]; another customer buys 33.33 through chain[2]
    other = UserFactory()
    bind(merchant=merchant, customer=other, distributor=chain[2])
    paid_order(merchant=merchant, customer=other, lines=[(skus[0], 1)])
    line = settled.lines.get(sku=skus[1])
    case = refund_request(
        merchant=merchant,
        customer=customer,
        order_id=settled.pk,
        kind="quantity",
        reason="x",
        lines=[RefundLineRequest(line.pk, quantity=1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    notify(case)
    open_case = refund_request(  # requested, not refunded: does not count
        merchant=merchant, customer=customer, order_id=settled.pk, kind="order", reason="x"
    )
    assert open_case.amount == D("53.35")

    with django_assert_num_queries(2):
        rates = refund_rate_by_distributor(
            merchant=merchant, since=timezone.now() - timedelta(days=30)
        )

    assert {pk: (r.paid, r.refunded, r.rate) for pk, r in rates.items()} == {
        chain[3].pk: (D("63.36"), D("10.01"), D("0.1580")),
        chain[2].pk: (D("33.33"), D("0.00"), D("0.0000")),
    }
    later = refund_rate_by_distributor(merchant=merchant, since=timezone.now() + timedelta(days=1))
    assert later == {}
