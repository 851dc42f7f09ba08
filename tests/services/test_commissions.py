from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.commissions.services import (
    CommissionPlanInvalid,
    commission_plan_update,
    commission_release,
    commission_settle_orders,
    commissions_release_due,
    commissions_unsettled_order_ids,
)
from apps.core.errors import NotFound
from apps.distributors.models import CustomerBinding, Distributor
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.orders.models import Order
from apps.tenancy.scope import owner_connection
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.support.ledger import ledger_balances

from .flows import bind, completed_order, shipped_order

D = Decimal


@pytest.fixture
def lines(merchant):
    """Two lines: 1 × 33.33 and 3 × 10.01 = 30.03."""
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    return [(first, 1), (second, 3)]


@pytest.fixture
def order(merchant, customer, chain, lines):
    """Completed; its customer is bound to chain[3]: levels 1–3 are chain[3], [2], [1]."""
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    return completed_order(merchant=merchant, customer=customer, lines=lines)


def records(order):
    return sorted(
        CommissionRecord.objects.filter(order=order).values_list(
            "order_line__paid_amount", "beneficiary_id", "level", "rate_percent", "amount", "status"
        )
    )


def wallet(distributor):
    return Wallet.objects.get(distributor=distributor)


def test_settlement_creates_one_record_per_line_beneficiary_and_level_rounded_down(order, chain):
    # when the completed order is settled
    created = commission_settle_orders(order_id=order.pk)

    # then each line pays 10 / 5 / 2 % to levels 1–3, each record rounded down to the cent
    assert created == 6
    assert records(order) == sorted(
        [
            (D("33.33"), chain[3].pk, 1, D("10.00"), D("3.33"), "frozen"),  # 3.333
            (D("33.33"), chain[2].pk, 2, D("5.00"), D("1.66"), "frozen"),  # 1.6665
            (D("33.33"), chain[1].pk, 3, D("2.00"), D("0.66"), "frozen"),  # 0.6666
            (D("30.03"), chain[3].pk, 1, D("10.00"), D("3.00"), "frozen"),  # 3.003
            (D("30.03"), chain[2].pk, 2, D("5.00"), D("1.50"), "frozen"),  # 1.5015
            (D("30.03"), chain[1].pk, 3, D("2.00"), D("0.60"), "frozen"),  # 0.6006
        ]
    )
    # and the fourth ancestor gets nothing
    assert CommissionRecord.objects.filter(beneficiary=chain[0]).count() == 0
    order.refresh_from_db()
    assert order.commission_status == Order.CommissionStatus.SETTLED
    release_at = order.completed_at + timedelta(days=7)
    assert set(
        CommissionRecord.objects.filter(order=order).values_list("release_at", flat=True)
    ) == {release_at}


def test_settlement_credits_frozen_balances_equal_to_the_ledger(order, chain):
    commission_settle_orders(order_id=order.pk)

    expected = {chain[0]: D("0.00"), chain[1]: D("1.26"), chain[2]: D("3.16"), chain[3]: D("6.33")}
    for distributor, frozen in expected.items():
        balances = wallet(distributor)
        assert (balances.frozen, balances.available, balances.withdrawn) == (frozen, 0, 0)
        assert ledger_balances(distributor=distributor) == {
            "frozen": frozen,
            "available": D("0.00"),
            "withdrawing": D("0.00"),
            "withdrawn": D("0.00"),
        }
    # one balanced journal: the merchant owes the six frozen amounts it now pays out
    journal = Journal.objects.get(kind=Journal.Kind.COMMISSION_EARNED)
    assert journal.key == f"order:{order.pk}:commission"
    legs = list(journal.entries.values_list("account", "distributor_id", "amount"))
    assert len(legs) == 7
    assert ("merchant_payable", None, -sum(expected.values())) in legs
    assert sum(amount for _account, _distributor, amount in legs) == D("0.00")


def test_settling_twice_creates_nothing_more(order, chain):
    assert commission_settle_orders(order_id=order.pk) == 6

    assert commission_settle_orders(order_id=order.pk) == 0

    assert CommissionRecord.objects.filter(order=order).count() == 6
    assert LedgerEntry.objects.filter(journal__kind=Journal.Kind.COMMISSION_EARNED).count() == 7
    assert wallet(chain[3]).frozen == D("6.33")


def test_unfinished_order_is_not_settled(merchant, customer, chain, lines):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = shipped_order(merchant=merchant, customer=customer, lines=lines)
    # even if its commission status claims otherwise
    Order.objects.filter(pk=order.pk).update(commission_status=Order.CommissionStatus.PENDING)

    assert commission_settle_orders(order_id=order.pk) == 0

    assert CommissionRecord.objects.count() == 0
    assert Order.objects.get(pk=order.pk).commission_status == Order.CommissionStatus.PENDING


def test_suspended_beneficiary_is_skipped_and_others_keep_their_rate(order, chain):
    Distributor.objects.filter(pk=chain[2].pk).update(status=Distributor.Status.SUSPENDED)

    assert commission_settle_orders(order_id=order.pk) == 4

    assert records(order) == sorted(
        [
            (D("33.33"), chain[3].pk, 1, D("10.00"), D("3.33"), "frozen"),
            (D("33.33"), chain[1].pk, 3, D("2.00"), D("0.66"), "frozen"),
            (D("30.03"), chain[3].pk, 1, D("10.00"), D("3.00"), "frozen"),
            (D("30.03"), chain[1].pk, 3, D("2.00"), D("0.60"), "frozen"),
        ]
    )
    assert wallet(chain[2]).frozen == D("0.00")
    assert ledger_balances(distributor=chain[2])["frozen"] == D("0.00")


def test_upline_snapshot_decides_even_if_the_binding_changes_later(
    merchant, order, chain, customer
):
    # the customer's binding is moved to the root after the order was placed
    CustomerBinding.objects.filter(customer=customer).update(distributor=chain[0])

    commission_settle_orders(order_id=order.pk)

    assert {pk for _base, pk, *_rest in records(order)} == {chain[1].pk, chain[2].pk, chain[3].pk}


def test_disabled_plan_pays_nothing(merchant, order):
    CommissionPlan.objects.filter(merchant=merchant).update(is_enabled=False)

    assert commission_settle_orders(order_id=order.pk) == 0

    assert CommissionRecord.objects.count() == 0


def test_records_of_a_level_trimmed_to_zero_are_not_written(merchant, order, chain):
    # given a plan whose levels exceed its cap (only possible without the constraint, which this
    # test's transaction drops and rolls back; as the tables' owner, like a migration)
    with owner_connection("test: drop a constraint"), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE commissions_commissionplan "
            "DROP CONSTRAINT commission_plan_levels_within_cap"
        )
    CommissionPlan.objects.filter(merchant=merchant).update(
        level1_percent=D("20"),
        level2_percent=D("15"),
        level3_percent=D("10"),
        max_total_percent=D("30"),
    )

    assert commission_settle_orders(order_id=order.pk) == 4

    assert records(order) == sorted(
        [
            (D("33.33"), chain[3].pk, 1, D("20.00"), D("6.66"), "frozen"),  # 6.666
            (D("33.33"), chain[2].pk, 2, D("10.00"), D("3.33"), "frozen"),  # 3.333
            (D("30.03"), chain[3].pk, 1, D("20.00"), D("6.00"), "frozen"),  # 6.006
            (D("30.03"), chain[2].pk, 2, D("10.00"), D("3.00"), "frozen"),  # 3.003
        ]
    )
    assert CommissionRecord.objects.filter(beneficiary=chain[1]).count() == 0


def test_release_after_the_freeze_moves_frozen_to_available(order, chain):
    # given settled commission, frozen for 7 days after completion
    commission_settle_orders(order_id=order.pk)
    order.refresh_from_db()
    due_at = order.completed_at + timedelta(days=7)

    # when the release job runs one second early, then on time, then again
    early = commissions_release_due(now=due_at - timedelta(seconds=1))
    on_time = commissions_release_due(now=due_at)
    again = commissions_release_due(now=due_at + timedelta(days=1))

    # then everything is released exactly once
    assert (early, on_time, again) == (0, 6, 0)
    assert set(CommissionRecord.objects.values_list("status", "released_at")) == {
        ("released", due_at)
    }
    expected = {chain[1]: D("1.26"), chain[2]: D("3.16"), chain[3]: D("6.33")}
    for distributor, amount in expected.items():
        balances = wallet(distributor)
        assert (balances.frozen, balances.available) == (D("0.00"), amount)
        assert ledger_balances(distributor=distributor) == {
            "frozen": D("0.00"),
            "available": amount,
            "withdrawing": D("0.00"),
            "withdrawn": D("0.00"),
        }
    # and each record has exactly two release entries: −amount frozen, +amount available
    record = CommissionRecord.objects.get(beneficiary=chain[3], order_line__paid_amount=D("33.33"))
    assert sorted(
        LedgerEntry.objects.filter(
            commission=record, journal__kind=Journal.Kind.COMMISSION_RELEASED
        ).values_list("account", "amount")
    ) == [("available", D("3.33")), ("frozen", D("-3.33"))]
    assert LedgerEntry.objects.filter(journal__kind=Journal.Kind.COMMISSION_RELEASED).count() == 12


def test_releasing_one_record_twice_moves_it_once(order, chain):
    commission_settle_orders(order_id=order.pk)
    record = CommissionRecord.objects.get(beneficiary=chain[2], order_line__paid_amount=D("30.03"))
    now = record.release_at

    assert commission_release(record_id=record.pk, now=now) is True
    assert commission_release(record_id=record.pk, now=now) is False

    balances = wallet(chain[2])
    assert (balances.frozen, balances.available) == (D("1.66"), D("1.50"))
    assert ledger_balances(distributor=chain[2])["frozen"] == D("1.66")
    assert ledger_balances(distributor=chain[2])["available"] == D("1.50")


def test_sweeper_finds_completed_orders_left_unsettled(order, merchant, chain, lines):
    # given the completed order's enqueue was lost a while ago, and another completed just now
    Order.objects.filter(pk=order.pk).update(completed_at=order.completed_at - timedelta(minutes=5))
    buyer = UserFactory()
    bind(merchant=merchant, customer=buyer, distributor=chain[3])
    recent = completed_order(merchant=merchant, customer=buyer, lines=lines)
    assert recent.commission_status == Order.CommissionStatus.PENDING

    # then only the old one is swept up
    assert commissions_unsettled_order_ids() == [order.pk]

    commission_settle_orders(order_id=order.pk)
    assert commissions_unsettled_order_ids() == []


# --- the commission plan ----------------------------------------------------------------------


def plan_values(merchant):
    return CommissionPlan.objects.values_list(
        "level1_percent",
        "level2_percent",
        "level3_percent",
        "max_total_percent",
        "freeze_days",
        "is_enabled",
    ).get(merchant=merchant)


def test_plan_update_changes_the_given_settings(merchant, other_merchant):
    plan = commission_plan_update(
        merchant=merchant,
        level1_percent=D("12.50"),
        level3_percent=D("0"),
        max_total_percent="17.50",
        freeze_days=0,
        is_enabled=False,
    )

    assert plan.merchant_id == merchant.pk
    assert plan_values(merchant) == (D("12.50"), D("5.00"), D("0.00"), D("17.50"), 0, False)
    assert plan_values(other_merchant) == (D("10.00"), D("5.00"), D("2.00"), D("30.00"), 7, True)


def test_plan_levels_may_add_up_to_exactly_the_cap_of_100(merchant):
    commission_plan_update(
        merchant=merchant,
        level1_percent=D("100"),
        level2_percent=D("0"),
        level3_percent=D("0"),
        max_total_percent=D("100"),
        freeze_days=365,
    )

    assert plan_values(merchant) == (D("100.00"), D("0.00"), D("0.00"), D("100.00"), 365, True)


@pytest.mark.parametrize(
    ("change", "code", "field", "message"),
    [
        (
            {"max_total_percent": D("16.99")},
            "levels_over_cap",
            "max_total_percent",
            "The levels add up to 17.00%, more than the cap of 16.99%.",
        ),
        (
            {"level1_percent": D("24")},
            "levels_over_cap",
            "max_total_percent",
            "The levels add up to 31.00%, more than the cap of 30.00%.",
        ),
        (
            {"max_total_percent": D("100.01")},
            "percent_out_of_range",
            "max_total_percent",
            "The cap must be between 0 and 100%.",
        ),
        (
            {"level2_percent": D("-0.01")},
            "percent_out_of_range",
            "level2_percent",
            "Level 2 must be between 0 and 100%.",
        ),
        (
            {"level3_percent": D("101")},
            "percent_out_of_range",
            "level3_percent",
            "Level 3 must be between 0 and 100%.",
        ),
        (
            {"level1_percent": D("1.005")},
            "invalid_percent",
            "level1_percent",
            "Level 1 has at most two decimal places.",
        ),
        (
            {"level1_percent": 1.5},
            "invalid_percent",
            "level1_percent",
            "Level 1 must be a percentage such as 12.50.",
        ),
        (
            {"freeze_days": 366},
            "freeze_days_out_of_range",
            "freeze_days",
            "Freeze days must be a whole number from 0 to 365.",
        ),
        (
            {"freeze_days": -1},
            "freeze_days_out_of_range",
            "freeze_days",
            "Freeze days must be a whole number from 0 to 365.",
        ),
        (
            {"is_enabled": "yes"},
            "invalid_is_enabled",
            "is_enabled",
            "“Enabled” is yes or no.",
        ),
    ],
)
def test_bad_plan_is_refused_naming_the_problem(merchant, change, code, field, message):
    with pytest.raises(CommissionPlanInvalid) as refused:
        commission_plan_update(merchant=merchant, **change)

    assert (refused.value.code, refused.value.field, refused.value.status) == (code, field, 400)
    assert refused.value.message == message
    assert plan_values(merchant) == (D("10.00"), D("5.00"), D("2.00"), D("30.00"), 7, True)


def test_plan_levels_are_checked_against_the_stored_cap(merchant):
    commission_plan_update(merchant=merchant, max_total_percent=D("20"))

    with pytest.raises(CommissionPlanInvalid) as refused:
        commission_plan_update(merchant=merchant, level2_percent=D("8.01"))

    assert refused.value.message == "The levels add up to 20.01%, more than the cap of 20.00%."
    assert plan_values(merchant)[:4] == (D("10.00"), D("5.00"), D("2.00"), D("20.00"))


def test_a_merchant_without_a_plan_is_told_so(db):
    merchant = MerchantFactory()
    CommissionPlan.objects.filter(merchant=merchant).delete()

    with pytest.raises(NotFound) as refused:
        commission_plan_update(merchant=merchant, freeze_days=3)

    assert (refused.value.code, refused.value.status) == ("no_commission_plan", 404)
    assert CommissionPlan.objects.filter(merchant=merchant).count() == 0


def test_plan_update_refuses_unknown_settings(merchant):
    with pytest.raises(TypeError):
        commission_plan_update(merchant=merchant, merchant_id=1)
