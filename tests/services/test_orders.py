from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions import tasks as commission_tasks
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.orders.events import OrderCancelled, OrderCancelling, OrderCompleted, OrderPaid
from apps.orders.models import CartItem, Order, OrderLine, OrderStatusChange
from apps.orders.services import (
    cart_add_item,
    order_cancel,
    order_complete,
    order_confirm_receipt,
    order_place,
    order_place_from_cart,
    order_ship,
    orders_auto_complete,
    orders_cancel_expired,
)
from apps.payments.services import payment_handle_notification
from apps.products.models import Sku
from tests.factories import SkuFactory, UserFactory

from .flows import bind, pay, place, shipped_order, signed_notification

S = Order.Status


@pytest.fixture
def cheap_sku(merchant):
    return SkuFactory(product__merchant=merchant, price=Decimal("33.33"), stock=10)


@pytest.fixture
def other_sku(merchant):
    return SkuFactory(product__merchant=merchant, price=Decimal("10.01"), stock=10)


def stock_of(sku):
    return Sku.objects.get(pk=sku.pk).stock


# --- placing ----------------------------------------------------------------------------------


def test_order_from_cart_snapshots_prices_and_upline_reserves_stock_and_empties_cart(
    merchant, customer, chain, cheap_sku, other_sku, recipient
):
    # given a customer bound to the deepest of four distributors, with two items in the cart
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    cart_add_item(merchant=merchant, customer=customer, sku_id=cheap_sku.pk, quantity=1)
    cart_add_item(merchant=merchant, customer=customer, sku_id=other_sku.pk, quantity=3)

    # when the order is placed, and the price changes afterwards
    order = order_place_from_cart(merchant=merchant, customer=customer, recipient=recipient)
    Sku.objects.filter(pk=cheap_sku.pk).update(price=Decimal("99.00"))

    # then prices, amounts and the three-level upline are frozen in the order
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT
    assert order.goods_amount == Decimal("63.36")
    assert order.payable_amount == Decimal("63.36")
    assert order.distributor_id == chain[3].pk
    assert order.level2_distributor_id == chain[2].pk
    assert order.level3_distributor_id == chain[1].pk
    assert order.beneficiary_ids == [(1, chain[3].pk), (2, chain[2].pk), (3, chain[1].pk)]
    assert chain[0].pk not in {pk for _level, pk in order.beneficiary_ids}
    lines = list(OrderLine.objects.filter(order=order).order_by("sku_id"))
    assert [(line.sku_id, line.unit_price, line.quantity, line.paid_amount) for line in lines] == [
        (cheap_sku.pk, Decimal("33.33"), 1, Decimal("33.33")),
        (other_sku.pk, Decimal("10.01"), 3, Decimal("30.03")),
    ]
    # and stock is reserved, the cart emptied, the creation recorded
    assert stock_of(cheap_sku) == 9
    assert stock_of(other_sku) == 7
    assert CartItem.objects.filter(cart__customer=customer).count() == 0
    assert list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    ) == [("", S.PENDING_PAYMENT)]


def test_order_without_binding_has_no_upline(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 2)])

    assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
        None,
        None,
        None,
    )
    assert order.payable_amount == Decimal("66.66")


def test_order_bound_to_second_level_snapshots_two_levels(merchant, customer, chain, cheap_sku):
    bind(merchant=merchant, customer=customer, distributor=chain[1])

    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])

    assert order.beneficiary_ids == [(1, chain[1].pk), (2, chain[0].pk)]
    assert order.level3_distributor_id is None


def test_another_merchants_sku_is_not_found_and_nothing_is_written(
    merchant, other_merchant, customer, cheap_sku, recipient
):
    # given a SKU of another store
    foreign = SkuFactory(product__merchant=other_merchant, stock=5)

    # when it is ordered in this store, even next to a valid line
    with pytest.raises(NotFound) as caught:
        order_place(
            merchant=merchant,
            customer=customer,
            lines=[(cheap_sku.pk, 1), (foreign.pk, 1)],
            recipient=recipient,
        )

    # then it acts as absent and nothing changed
    assert caught.value.code == "unknown_sku"
    assert caught.value.status == 404
    assert Order.objects.count() == 0
    assert OrderStatusChange.objects.count() == 0
    assert stock_of(foreign) == 5
    assert stock_of(cheap_sku) == 10


@pytest.mark.parametrize("quantity", [0, -1, 1000, 10**12, 2.5, "3", True])
def test_unreasonable_quantity_is_refused(merchant, customer, cheap_sku, recipient, quantity):
    with pytest.raises(DomainError) as caught:
        order_place(
            merchant=merchant,
            customer=customer,
            lines=[(cheap_sku.pk, quantity)],
            recipient=recipient,
        )

    assert caught.value.code == "invalid_quantity"
    assert caught.value.status == 400
    assert Order.objects.count() == 0
    assert stock_of(cheap_sku) == 10


def test_repeated_lines_adding_up_beyond_the_limit_are_refused(
    merchant, customer, cheap_sku, recipient
):
    with pytest.raises(DomainError) as caught:
        order_place(
            merchant=merchant,
            customer=customer,
            lines=[(cheap_sku.pk, 600), (cheap_sku.pk, 400)],
            recipient=recipient,
        )

    assert caught.value.code == "invalid_quantity"
    assert Order.objects.count() == 0


def test_more_than_in_stock_is_a_conflict_and_reserves_nothing(
    merchant, customer, cheap_sku, other_sku, recipient
):
    with pytest.raises(Conflict) as caught:
        order_place(
            merchant=merchant,
            customer=customer,
            lines=[(cheap_sku.pk, 1), (other_sku.pk, 11)],
            recipient=recipient,
        )

    assert caught.value.code == "out_of_stock"
    assert Order.objects.count() == 0
    assert (stock_of(cheap_sku), stock_of(other_sku)) == (10, 10)


# --- cancelling and expiry --------------------------------------------------------------------


def test_cancel_releases_stock_and_records_history(merchant, customer, cheap_sku, other_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 2), (other_sku, 3)])

    assert order_cancel(order=order, actor=customer, reason="changed my mind") is True

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.cancelled_at is not None
    assert (stock_of(cheap_sku), stock_of(other_sku)) == (10, 10)
    assert list(
        OrderStatusChange.objects.filter(order=order).values_list(
            "from_status", "to_status", "reason"
        )
    ) == [("", S.PENDING_PAYMENT, ""), (S.PENDING_PAYMENT, S.CANCELLED, "changed my mind")]


def test_cancel_with_a_stale_copy_of_an_order_paid_meanwhile_changes_nothing(
    merchant, customer, cheap_sku
):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 2)])
    stale = Order.objects.get(pk=order.pk)
    pay(merchant=merchant, customer=customer, order=order)

    assert order_cancel(order=stale) is False

    order.refresh_from_db()
    assert order.status == S.PAID
    assert stock_of(cheap_sku) == 8
    assert OrderStatusChange.objects.filter(order=order, to_status=S.CANCELLED).count() == 0


def test_expiry_cancels_only_expired_unpaid_orders(merchant, cheap_sku):
    # given an expired unpaid order, a fresh unpaid one, and an expired-but-paid one
    buyers = UserFactory.create_batch(3)
    expired = place(merchant=merchant, customer=buyers[0], lines=[(cheap_sku, 1)])
    fresh = place(merchant=merchant, customer=buyers[1], lines=[(cheap_sku, 2)])
    paid = place(merchant=merchant, customer=buyers[2], lines=[(cheap_sku, 3)])
    pay(merchant=merchant, customer=buyers[2], order=paid)
    now = timezone.now()
    Order.objects.filter(pk__in=[expired.pk, paid.pk]).update(expires_at=now - timedelta(seconds=1))

    # when the sweep runs
    cancelled = orders_cancel_expired(now=now)

    # then only the expired unpaid one is cancelled and its unit returns to stock
    assert cancelled == 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {expired.pk: S.CANCELLED, fresh.pk: S.PENDING_PAYMENT, paid.pk: S.PAID}
    assert stock_of(cheap_sku) == 10 - 2 - 3
    assert (
        OrderStatusChange.objects.get(order=expired, to_status=S.CANCELLED).reason
        == "unpaid, expired"
    )
    # and running it again finds nothing
    assert orders_cancel_expired(now=now) == 0


def test_expiry_cancels_each_order_inside_its_own_store(merchant, cheap_sku, monkeypatch):
    from apps.orders.services import transitions
    from apps.tenancy.scope import MERCHANT, Scope, current_scope

    # given an expired unpaid order found by the sweep in the platform scope
    order = place(merchant=merchant, customer=UserFactory(), lines=[(cheap_sku, 1)])
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(expires_at=now - timedelta(seconds=1))
    seen = []
    real_cancel = transitions.order_cancel

    def recording_cancel(*, order, reason):  # type: ignore[no-untyped-def]
        seen.append((order.pk, current_scope()))
        return real_cancel(order=order, reason=reason)

    monkeypatch.setattr(transitions, "order_cancel", recording_cancel)

    # when the sweep runs, then the cancellation itself runs in the order's merchant's scope
    assert orders_cancel_expired(now=now) == 1
    assert seen == [(order.pk, Scope(kind=MERCHANT, merchant_id=merchant.pk))]
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED


# --- the state machine refuses invalid transitions --------------------------------------------


def history_count():
    return OrderStatusChange.objects.count()


def test_shipping_an_unpaid_order_is_a_conflict(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    before = history_count()

    with pytest.raises(Conflict) as caught:
        order_ship(
            merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="1", actor=None
        )

    assert caught.value.code == "invalid_transition"
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT
    assert history_count() == before


def test_confirming_an_unshipped_order_is_a_conflict(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)
    before = history_count()

    with pytest.raises(Conflict) as caught:
        order_confirm_receipt(merchant=merchant, customer=customer, order_id=order.pk)

    assert caught.value.code == "invalid_transition"
    order.refresh_from_db()
    assert (order.status, order.completed_at, order.commission_status) == (S.PAID, None, "none")
    assert history_count() == before


def test_cancelling_a_paid_order_is_a_conflict(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)
    before = history_count()

    with pytest.raises(Conflict) as caught:
        order_cancel(order=order)

    assert caught.value.code == "invalid_transition"
    assert Order.objects.get(pk=order.pk).status == S.PAID
    assert stock_of(cheap_sku) == 9
    assert history_count() == before


def test_another_customer_cannot_confirm_receipt(merchant, customer, cheap_sku):
    order = shipped_order(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])

    with pytest.raises(NotFound):
        order_confirm_receipt(merchant=merchant, customer=UserFactory(), order_id=order.pk)

    assert Order.objects.get(pk=order.pk).status == S.SHIPPED


def test_another_merchant_cannot_ship_the_order(merchant, other_merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)

    with pytest.raises(NotFound):
        order_ship(
            merchant=other_merchant,
            order_id=order.pk,
            carrier="SF",
            tracking_number="1",
            actor=None,
        )

    assert Order.objects.get(pk=order.pk).status == S.PAID


# --- completion enqueues settlement on commit -------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(commission_tasks.commission_settle_order_task, "delay", calls.append)
    return calls


def test_confirm_receipt_completes_and_enqueues_settlement_only_on_commit(
    merchant, customer, chain, cheap_sku, enqueued, django_capture_on_commit_callbacks
):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = shipped_order(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_confirm_receipt(merchant=merchant, customer=customer, order_id=order.pk)
    assert enqueued == []
    for callback in callbacks:
        callback()

    order.refresh_from_db()
    assert (order.status, order.commission_status) == (S.COMPLETED, "pending")
    assert enqueued == [order.pk]
    # and a second confirmation is harmless: nothing more is enqueued or recorded
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_confirm_receipt(merchant=merchant, customer=customer, order_id=order.pk)
    assert callbacks == []
    assert enqueued == [order.pk]
    assert OrderStatusChange.objects.filter(order=order, to_status=S.COMPLETED).count() == 1


def test_auto_complete_after_n_days_enqueues_settlement_on_commit(
    merchant, chain, cheap_sku, enqueued, django_capture_on_commit_callbacks, settings
):
    # given orders shipped 7 days + 1 s ago (one with an upline, one without), one 6 days ago
    settings.FENXIAO_AUTO_COMPLETE_DAYS = 7
    buyers = UserFactory.create_batch(3)
    bind(merchant=merchant, customer=buyers[0], distributor=chain[3])
    due = shipped_order(merchant=merchant, customer=buyers[0], lines=[(cheap_sku, 1)])
    due_without_upline = shipped_order(
        merchant=merchant, customer=buyers[1], lines=[(cheap_sku, 1)]
    )
    recent = shipped_order(merchant=merchant, customer=buyers[2], lines=[(cheap_sku, 1)])
    now = timezone.now()
    Order.objects.filter(pk__in=[due.pk, due_without_upline.pk]).update(
        shipped_at=now - timedelta(days=7, seconds=1)
    )
    Order.objects.filter(pk=recent.pk).update(shipped_at=now - timedelta(days=6))

    # when beat's auto-complete runs
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        completed = orders_auto_complete(now=now)

    # then the two due orders complete; only the one with an upline enqueues settlement
    assert completed == 2
    assert len(callbacks) == 1
    assert enqueued == [due.pk]
    rows = dict(Order.objects.values_list("pk", "status"))
    assert rows == {due.pk: S.COMPLETED, due_without_upline.pk: S.COMPLETED, recent.pk: S.SHIPPED}
    assert Order.objects.get(pk=due.pk).commission_status == "pending"
    assert Order.objects.get(pk=due_without_upline.pk).commission_status == "none"


def test_completing_an_unshipped_order_is_refused(merchant, customer, cheap_sku, enqueued):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)

    with pytest.raises(Conflict):
        order_complete(order=order)

    assert enqueued == []
    assert Order.objects.get(pk=order.pk).status == S.PAID


# --- what the state machine tells the apps above (apps.orders.events) -------------------------


def test_cancel_announces_itself_before_touching_the_order_then_announces_the_cancel(
    merchant, customer, cheap_sku
):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])

    with events.captured() as published:
        assert order_cancel(order=order) is True

    ids = {"merchant_id": merchant.pk, "order_id": order.pk}
    assert published == [OrderCancelling(**ids), OrderCancelled(**ids)]


def test_a_cancel_that_loses_to_a_payment_announces_no_cancel(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    stale = Order.objects.get(pk=order.pk)
    pay(merchant=merchant, customer=customer, order=order)

    with events.captured() as published:
        assert order_cancel(order=stale) is False

    assert published == [OrderCancelling(merchant_id=merchant.pk, order_id=order.pk)]


def test_payment_publishes_order_paid_once(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])

    with events.captured() as published:
        payment = pay(merchant=merchant, customer=customer, order=order)
        body, headers = signed_notification(payment)
        assert payment_handle_notification(provider="sandbox", body=body, headers=headers) == (
            "duplicate"
        )

    assert published == [
        OrderPaid(merchant_id=merchant.pk, order_id=order.pk, customer_id=customer.pk)
    ]


def test_completion_publishes_the_beneficiaries_and_whether_commission_is_due(
    merchant, customer, chain, cheap_sku
):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    with_upline = shipped_order(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    direct = shipped_order(merchant=merchant, customer=UserFactory(), lines=[(cheap_sku, 1)])
    stale = Order.objects.get(pk=direct.pk)

    with events.captured() as published:
        assert order_complete(order=with_upline) is True
        assert order_complete(order=direct) is True
        assert order_complete(order=stale) is False  # a second completion publishes nothing

    assert published == [
        OrderCompleted(
            merchant_id=merchant.pk,
            order_id=with_upline.pk,
            beneficiary_ids=(chain[3].pk, chain[2].pk, chain[1].pk),
            commission_due=True,
        ),
        OrderCompleted(
            merchant_id=merchant.pk, order_id=direct.pk, beneficiary_ids=(), commission_due=False
        ),
    ]


def test_ship_records_carrier_and_history(merchant, customer, cheap_sku, staff_user):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)

    order_ship(
        merchant=merchant,
        order_id=order.pk,
        carrier=" SF ",
        tracking_number=" SF1 ",
        actor=staff_user,
    )

    order.refresh_from_db()
    assert (order.status, order.shipping_carrier, order.tracking_number) == (S.SHIPPED, "SF", "SF1")
    change = OrderStatusChange.objects.get(order=order, to_status=S.SHIPPED)
    assert (change.from_status, change.actor_id) == (S.PAID, staff_user.pk)


def test_ship_without_tracking_is_refused(merchant, customer, cheap_sku):
    order = place(merchant=merchant, customer=customer, lines=[(cheap_sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)

    with pytest.raises(DomainError) as caught:
        order_ship(
            merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="  ", actor=None
        )

    assert caught.value.code == "tracking_required"
    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_placing_a_cart_with_nothing_on_offer_sends_ten_statements(
    merchant, customer, chain, cheap_sku, other_sku, recipient, django_assert_num_queries
):
    # given a bound customer with two lines in the cart, in a store with nothing on offer
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    cart_add_item(merchant=merchant, customer=customer, sku_id=cheap_sku.pk, quantity=1)
    cart_add_item(merchant=merchant, customer=customer, sku_id=other_sku.pk, quantity=3)

    # when the order is placed: the cart lock, its items, what is on offer (one statement for
    # every pricing step and the membership), a stock update per line, the upline with the
    # programme's self-purchase flag, the order, its lines, its history, the cart emptied; plus
    # the test transaction's savepoint and its release
    with django_assert_num_queries(12):
        order = order_place_from_cart(merchant=merchant, customer=customer, recipient=recipient)

    # then it is written in full, the upline snapshotted
    assert order.lines.count() == 2
    assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
        chain[3].pk,
        chain[2].pk,
        chain[1].pk,
    )
