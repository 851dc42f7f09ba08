"""Refunded money is not "sales": tier metrics and the spending threshold of threshold recruitment
count what orders paid less what refunds gave back (an order refunded in full is no order)."""

from decimal import Decimal

import pytest

from apps.distributors.models import Distributor, TierCondition
from apps.distributors.recruitment import programme_settings_update
from apps.programme.threshold import (
    customer_paid_total,
    threshold_grant_if_reached,
    threshold_sweep,
)
from apps.programme.tiers import tier_metrics
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request

from .conftest import notify

pytestmark = pytest.mark.django_db
D = Decimal
M = TierCondition.Metric
KEYS = {
    (M.OWN_SALES_AMOUNT, 30),
    (M.OWN_ORDER_COUNT, 30),
    (M.TEAM_SALES_AMOUNT, 30),
    (M.TEAM_ORDER_COUNT, 30),
}


def refund(order, customer, django_capture_on_commit_callbacks, **request):
    case = refund_request(merchant=order.merchant, customer=customer, order_id=order.pk, **request)
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=order.merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    return case


def refund_part(order, customer, django_capture_on_commit_callbacks):
    """15.84 of the 63.36 paid, goods kept."""
    line = order.lines.get(unit_price=D("33.33"))
    return refund(
        order,
        customer,
        django_capture_on_commit_callbacks,
        kind="amount",
        reason="scratched",
        lines=[RefundLineRequest(line.pk, amount="15.84")],
    )


def figures(distributor):
    values = tier_metrics(distributor=distributor, keys=KEYS)
    return {metric: values[(metric, 30)] for metric, _days in sorted(KEYS)}


def test_tier_metrics_count_sales_less_refunds(
    settled, chain, customer, django_capture_on_commit_callbacks
):
    assert figures(chain[3])[M.OWN_SALES_AMOUNT] == D("63.36")

    refund_part(settled, customer, django_capture_on_commit_callbacks)

    assert figures(chain[3]) == {
        M.OWN_ORDER_COUNT: D("1"),
        M.OWN_SALES_AMOUNT: D("47.52"),
        M.TEAM_ORDER_COUNT: D("0"),
        M.TEAM_SALES_AMOUNT: D("0.00"),
    }
    assert figures(chain[2])[M.TEAM_SALES_AMOUNT] == D("47.52")


def test_an_order_refunded_in_full_is_no_sale(
    settled, chain, customer, django_capture_on_commit_callbacks
):
    refund(settled, customer, django_capture_on_commit_callbacks, kind="order", reason="x")

    assert figures(chain[3]) == {
        M.OWN_ORDER_COUNT: D("0"),
        M.OWN_SALES_AMOUNT: D("0.00"),
        M.TEAM_ORDER_COUNT: D("0"),
        M.TEAM_SALES_AMOUNT: D("0.00"),
    }
    assert figures(chain[2])[M.TEAM_ORDER_COUNT] == D("0")


def test_the_spending_threshold_counts_what_was_kept(
    merchant, settled, customer, django_capture_on_commit_callbacks
):
    refund_part(settled, customer, django_capture_on_commit_callbacks)
    programme_settings_update(
        merchant=merchant, recruitment_mode="threshold", spend_threshold="50.00"
    )

    assert customer_paid_total(merchant_id=merchant.pk, customer_id=customer.pk) == D("47.52")
    assert threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk) is None
    assert threshold_sweep() == 0
    assert not Distributor.objects.filter(merchant=merchant, user=customer).exists()

    programme_settings_update(merchant=merchant, spend_threshold="47.52")  # exactly what was kept
    granted = threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk)
    assert granted is not None
    assert granted.user_id == customer.pk


def test_the_commission_leaderboard_counts_what_refunds_left(
    merchant, settled, chain, customer, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.programme.leaderboards import leaderboard_get

    refund_part(settled, customer, django_capture_on_commit_callbacks)
    cache.clear()

    board = leaderboard_get(merchant=merchant, board="commission", period="all")

    # earned 6.33 / 3.16 / 1.26; the 15.84 refunded of the 33.33 line took back its pro-rata
    # share of that line's 3.33 / 1.66 / 0.66 (rounded up): 1.59 / 0.79 / 0.32
    assert [(entry.distributor_id, entry.value) for entry in board.top] == [
        (chain[3].pk, D("4.74")),
        (chain[2].pk, D("2.37")),
        (chain[1].pk, D("0.94")),
    ]
