"""Rooms' life, live-only prices, orders placed from a room, and the figures."""

from decimal import Decimal

import pytest
from django.db import transaction

from apps.core.errors import Conflict, DomainError, NotFound
from apps.live import presence, selectors, services
from apps.live.models import LiveRoom, LiveRoomStatusChange
from apps.orders.models import Order
from apps.orders.services import order_mark_paid
from apps.programme.binding import customer_bind

from ..factories import ProductFactory, SkuFactory, UserFactory


def _pay(order: Order) -> None:
    with transaction.atomic():
        assert order_mark_paid(order=order)


@pytest.fixture
def live(room_world):
    services.room_start(room=room_world["room"], actor=None)
    return room_world


def test_a_room_goes_live_and_ends_once_with_its_history(room_world, staff_user):
    room = room_world["room"]
    services.room_start(room=room, actor=staff_user)
    services.room_end(room=room, actor=staff_user)
    room.refresh_from_db()
    assert room.status == LiveRoom.Status.ENDED
    assert room.started_at is not None and room.ended_at is not None
    assert list(LiveRoomStatusChange.objects.values_list("from_status", "to_status")) == [
        ("scheduled", "live"),
        ("live", "ended"),
    ]
    with pytest.raises(Conflict):
        services.room_start(room=room, actor=staff_user)


def test_ending_a_room_unpins_and_pins_are_refused_after(live):
    room = live["room"]
    services.room_pin(room=room, product_id=live["product"].pk, actor=None)
    services.room_end(room=room, actor=None)
    room.refresh_from_db()
    assert room.pinned_id is None
    with pytest.raises(Conflict) as refused:
        services.room_pin(room=room, product_id=live["product"].pk, actor=None)
    assert refused.value.code == "room_ended"


def test_an_order_from_a_live_room_pays_the_live_price_and_records_the_room(live, recipient):
    buyer = UserFactory()
    order = services.live_order_place(
        merchant=live["room"].merchant,
        room_id=live["room"].pk,
        customer=buyer,
        lines=[(live["sku_a"].pk, 2), (live["sku_b"].pk, 1)],
        recipient=recipient,
        expected_total=Decimal("340.00"),
    )
    assert order.live_room_id == live["room"].pk
    assert order.payable_amount == Decimal("340.00")
    assert order.price_channel == services.live_price_label(live["room"])
    # The base is the store price; the live price is the pipeline's promotion step, shown in
    # the order's breakdown as the live saving.
    assert [
        (line.sku_id, line.unit_price, line.paid_amount) for line in order.lines.order_by("sku_id")
    ] == [
        (live["sku_a"].pk, Decimal("100.00"), Decimal("160.00")),
        (live["sku_b"].pk, Decimal("180.00"), Decimal("180.00")),
    ]
    assert list(order.adjustments.values_list("line__sku_id", "step", "label", "amount")) == [
        (live["sku_a"].pk, "promotion", services.live_price_label(live["room"]), Decimal("40.00"))
    ]


def test_before_the_live_the_room_sells_at_regular_prices(room_world, recipient):
    order = services.live_order_place(
        merchant=room_world["room"].merchant,
        room_id=room_world["room"].pk,
        customer=UserFactory(),
        lines=[(room_world["sku_a"].pk, 1)],
        recipient=recipient,
    )
    assert (order.payable_amount, order.live_room_id) == (Decimal("100.00"), room_world["room"].pk)


def test_an_order_at_the_live_price_after_the_room_ended_is_refused(live, recipient):
    room = live["room"]
    services.room_end(room=room, actor=None)
    with pytest.raises(Conflict) as refused:
        services.live_order_place(
            merchant=room.merchant,
            room_id=room.pk,
            customer=UserFactory(),
            lines=[(live["sku_a"].pk, 1)],
            recipient=recipient,
            expected_total=Decimal("80.00"),
        )
    assert refused.value.code == "prices_changed"
    assert Order.objects.count() == 0
    live["sku_a"].refresh_from_db()
    assert live["sku_a"].stock == 50


def test_a_live_price_below_a_floor_set_later_is_raised_to_the_floor(live, recipient):
    sku = live["sku_a"]
    sku.min_resale_price = Decimal("90.00")
    sku.save(update_fields=["min_resale_price"])
    order = services.live_order_place(
        merchant=live["room"].merchant,
        room_id=live["room"].pk,
        customer=UserFactory(),
        lines=[(sku.pk, 1)],
        recipient=recipient,
    )
    assert order.payable_amount == Decimal("90.00")


def test_skus_outside_the_room_and_other_merchants_rooms_act_as_absent(
    live, recipient, other_merchant
):
    stranger = SkuFactory(product=ProductFactory(merchant=live["room"].merchant))
    with pytest.raises(NotFound):
        services.live_order_place(
            merchant=live["room"].merchant,
            room_id=live["room"].pk,
            customer=UserFactory(),
            lines=[(stranger.pk, 1)],
            recipient=recipient,
        )
    with pytest.raises(NotFound):
        services.live_order_place(
            merchant=other_merchant,
            room_id=live["room"].pk,
            customer=UserFactory(),
            lines=[(live["sku_a"].pk, 1)],
            recipient=recipient,
        )


def test_live_prices_keep_the_price_rules(room_world, merchant):
    room, sku = room_world["room"], room_world["sku_b"]
    sku.min_resale_price, sku.max_resale_price = Decimal("150.00"), Decimal("200.00")
    sku.save(update_fields=["min_resale_price", "max_resale_price"])
    for price, code in [
        (Decimal("149.99"), "below_floor"),
        (Decimal("200.01"), "above_ceiling"),
        (Decimal("0"), "invalid_price"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.live_price_set(room=room, sku_id=sku.pk, price=price)
        assert refused.value.code == code
    outside = SkuFactory(product=ProductFactory(merchant=merchant))
    with pytest.raises(DomainError) as refused:
        services.live_price_set(room=room, sku_id=outside.pk, price=Decimal("10.00"))
    assert refused.value.code == "not_in_room"
    assert services.live_price_set(room=room, sku_id=sku.pk, price=Decimal("150.00")).price == (
        Decimal("150.00")
    )


def test_figures_count_paid_orders_and_split_them_by_sharing_distributor(live, recipient, chain):
    room = live["room"]
    merchant = room.merchant
    shared_by = chain[3]
    bound, direct, unpaid = UserFactory(), UserFactory(), UserFactory()
    customer_bind(merchant=merchant, customer=bound, invite_code=shared_by.invite_code)
    for viewer in ("u1", "u2", "u3", "u4"):
        presence.viewer_join(room_id=room.pk, socket=f"s-{viewer}", viewer=viewer)
    orders = [
        services.live_order_place(
            merchant=merchant,
            room_id=room.pk,
            customer=customer,
            lines=[(live["sku_a"].pk, quantity)],
            recipient=recipient,
        )
        for customer, quantity in ((bound, 1), (bound, 2), (direct, 1), (unpaid, 1))
    ]
    for order in orders[:3]:
        _pay(order)
    figures = selectors.room_figures(room=room)
    assert (figures.viewers, figures.peak, figures.unique_viewers) == (4, 4, 4)
    assert (figures.orders, figures.buyers, figures.paid_amount) == (3, 2, Decimal("320.00"))
    assert figures.conversion_percent == Decimal("50.0")
    assert [
        (row.distributor_id, row.orders, row.paid_amount) for row in figures.by_distributor
    ] == [
        (shared_by.pk, 2, Decimal("240.00")),
        (None, 1, Decimal("80.00")),
    ]


def test_viewer_figures_live_in_redis_not_in_the_process(room_world):
    room = room_world["room"]
    presence.viewer_join(room_id=room.pk, socket="one", viewer="u1")
    presence.viewer_join(room_id=room.pk, socket="two", viewer="a-device")
    presence.likes_add(room_id=room.pk, count=9)
    presence._client.cache_clear()  # as a restarted process would: a new connection
    presence._join_script.cache_clear()
    assert presence.room_stats(room.pk) == presence.RoomStats(
        viewers=2, peak=2, unique_viewers=2, likes=9
    )
    assert presence.viewer_user_ids(room.pk) == [1]  # "u1": user 1; the device is anonymous
    presence.viewer_leave(room_id=room.pk, socket="one")
    assert presence.room_stats(room.pk).viewers == 1


def test_sockets_that_stop_sending_drop_out_of_the_count(room_world, settings):
    room = room_world["room"]
    settings.FENXIAO_LIVE_PRESENCE_SECONDS = -1  # already expired when written
    presence.viewer_join(room_id=room.pk, socket="gone", viewer="u1")
    assert presence.room_stats(room.pk).viewers == 0


def test_a_live_order_pays_commission_on_the_live_price_and_keeps_the_ledger(live, chain):
    """The money path of a room's order: paid at the live price, settled on what was paid (the
    live price, not the store price), every journal balanced."""
    from apps.commissions.models import CommissionRecord
    from apps.commissions.services import commission_settle_orders
    from apps.ledger.checks import ledger_breaches
    from apps.ledger.models import Journal
    from apps.orders.services import order_complete

    from ..services.flows import RECIPIENT, bind, pay, ship

    buyer = UserFactory()
    bind(merchant=live["room"].merchant, customer=buyer, distributor=chain[3])
    order = services.live_order_place(
        merchant=live["room"].merchant,
        room_id=live["room"].pk,
        customer=buyer,
        lines=[(live["sku_a"].pk, 2)],
        recipient=RECIPIENT,
    )
    pay(merchant=order.merchant, customer=buyer, order=order)
    payment = Journal.objects.get(kind=Journal.Kind.PAYMENT, order=order)
    assert ("provider", Decimal("-160.00")) in payment.entries.values_list("account", "amount")
    ship(merchant=order.merchant, order=order)
    assert order_complete(order=order) is True
    commission_settle_orders(order_id=order.pk)
    bases = set(CommissionRecord.objects.filter(order=order).values_list("base_amount", flat=True))
    assert bases == {Decimal("160.00")}
    assert ledger_breaches() == []
