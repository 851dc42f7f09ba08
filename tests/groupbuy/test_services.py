"""Group buying through the services: opening, joining, filling, failing, the per-person limit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions.models import CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.core.errors import Conflict, DomainError, NotFound
from apps.groupbuy.models import Group, GroupBuyPurchase, GroupMember
from apps.groupbuy.services import group_open, groupbuy_create, groups_close_expired
from apps.ledger.checks import ledger_breaches
from apps.marketing.checks import marketing_breaches
from apps.marketing.models import CouponGrant
from apps.orders.models import Order, OrderHold, OrderLineAdjustment
from apps.orders.services import order_cancel, order_complete
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from apps.refunds.models import RefundCase
from tests.factories import SkuFactory, UserFactory
from tests.marketing.factories import granted
from tests.services.flows import RECIPIENT, bind, pay, ship, signed_notification

from .conftest import deliver_refunds, join, open_paid

pytestmark = pytest.mark.django_db
D = Decimal
G = Group.Status
M = GroupMember.Status


def test_the_opener_pays_the_group_price_through_the_pipeline_and_opens_the_group(
    merchant, campaign, group_sku
):
    customer = UserFactory()
    member = group_open(
        merchant=merchant,
        customer=customer,
        campaign_id=campaign.pk,
        quantity=2,
        recipient=RECIPIENT,
    )
    order = member.order
    assert (order.goods_amount, order.discount_amount, order.payable_amount) == (
        D("198.00"),
        D("78.00"),
        D("120.00"),
    )
    assert order.price_channel == "Group price"
    assert list(
        OrderLineAdjustment.objects.filter(order=order).values_list("step", "label", "amount")
    ) == [("promotion", "Group price", D("78.00"))]
    assert list(OrderHold.objects.filter(order=order).values_list("reason", flat=True)) == [
        OrderHold.Reason.GROUP_BUY
    ]
    group = member.group
    assert (group.status, group.seats_taken, group.paid_count, group.deadline) == (
        G.PENDING,
        1,
        0,
        None,
    )
    assert Sku.objects.get(pk=group_sku.pk).stock == 18

    pay(merchant=merchant, customer=customer, order=order)
    group.refresh_from_db()
    member.refresh_from_db()
    assert (group.status, group.paid_count, member.status) == (G.OPEN, 1, M.PAID)
    assert group.deadline - group.opened_at == timedelta(hours=24)


def test_a_held_order_cannot_ship_before_the_group_is_full(merchant, campaign):
    member = open_paid(merchant=merchant, campaign=campaign)
    with pytest.raises(Conflict) as refused:
        ship(merchant=merchant, order=member.order)
    assert refused.value.code == "order_on_hold"
    assert Order.objects.get(pk=member.order_id).status == Order.Status.PAID


def test_the_last_paid_seat_fills_the_group_and_its_orders_ship_and_earn_commission(
    merchant, campaign, chain
):
    buyers = [UserFactory() for _ in range(3)]
    for buyer in buyers:
        bind(merchant=merchant, customer=buyer, distributor=chain[3])
    leader = open_paid(merchant=merchant, campaign=campaign, customer=buyers[0])
    second = join(merchant=merchant, group=leader.group, customer=buyers[1])
    assert Group.objects.get(pk=leader.group_id).status == G.OPEN
    assert OrderHold.objects.count() == 2  # the third seat is not placed yet
    third = join(merchant=merchant, group=leader.group, customer=buyers[2])

    group = Group.objects.get(pk=leader.group_id)
    assert (group.status, group.seats_taken, group.paid_count) == (G.FULL, 3, 3)
    assert group.filled_at is not None
    assert OrderHold.objects.count() == 0
    for member in (leader, second, third):
        order = ship(merchant=merchant, order=member.order)
        assert order_complete(order=order) is True
        assert commission_settle_orders(order_id=order.pk) == 3
    # Commission on what was paid: 60.00 at 10 % / 5 % / 2 % per order.
    assert sorted(
        CommissionRecord.objects.filter(order_id=leader.order_id).values_list("amount", flat=True)
    ) == [D("1.20"), D("3.00"), D("6.00")]
    assert ledger_breaches() == []


def test_joining_a_full_group_is_refused_and_writes_nothing(merchant, campaign, group_sku):
    leader = open_paid(merchant=merchant, campaign=campaign)
    join(merchant=merchant, group=leader.group)
    join(merchant=merchant, group=leader.group)
    before = (Order.objects.count(), GroupMember.objects.count(), GroupBuyPurchase.objects.count())
    stock = Sku.objects.get(pk=group_sku.pk).stock

    with pytest.raises(Conflict) as refused:
        join(merchant=merchant, group=leader.group)
    assert refused.value.code == "group_full"
    after = (Order.objects.count(), GroupMember.objects.count(), GroupBuyPurchase.objects.count())
    assert after == before
    assert Sku.objects.get(pk=group_sku.pk).stock == stock


def test_the_last_seat_held_by_an_unpaid_join_refuses_the_next_joiner(merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)
    join(merchant=merchant, group=leader.group)
    join(merchant=merchant, group=leader.group, paid=False)
    orders = Order.objects.count()
    with pytest.raises(Conflict) as refused:
        join(merchant=merchant, group=leader.group)
    assert refused.value.code == "group_full"
    assert Order.objects.count() == orders


def test_an_unpaid_join_that_expires_frees_its_seat(merchant, campaign, group_sku):
    leader = open_paid(merchant=merchant, campaign=campaign)
    unpaid = join(merchant=merchant, group=leader.group, paid=False, quantity=2)
    assert Group.objects.get(pk=leader.group_id).seats_taken == 2
    assert Sku.objects.get(pk=group_sku.pk).stock == 17

    assert order_cancel(order=unpaid.order, reason="unpaid, expired") is True

    group = Group.objects.get(pk=leader.group_id)
    unpaid.refresh_from_db()
    assert (group.seats_taken, group.paid_count, unpaid.status) == (1, 1, M.CANCELLED)
    assert Sku.objects.get(pk=group_sku.pk).stock == 19
    assert GroupBuyPurchase.objects.get(customer=unpaid.customer).quantity == 0
    assert not OrderHold.objects.filter(order_id=unpaid.order_id).exists()
    # The seat is free again: the same customer (or another) can take it.
    again = join(merchant=merchant, group=leader.group, customer=unpaid.customer)
    assert again.status == M.PAID


def test_an_opener_who_never_pays_takes_the_group_with_them(merchant, campaign):
    member = group_open(
        merchant=merchant,
        customer=UserFactory(),
        campaign_id=campaign.pk,
        quantity=1,
        recipient=RECIPIENT,
    )
    with pytest.raises(Conflict) as refused:
        join(merchant=merchant, group=member.group)
    assert refused.value.code == "group_closed"
    order_cancel(order=member.order, reason="unpaid, expired")
    assert Group.objects.get(pk=member.group_id).status == G.CANCELLED


def test_joining_twice_another_merchants_group_and_over_the_limit_are_refused(
    merchant, other_merchant, campaign
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    orders = Order.objects.count()
    with pytest.raises(Conflict) as twice:
        join(merchant=merchant, group=leader.group, customer=leader.customer)
    assert twice.value.code == "already_in_group"
    with pytest.raises(NotFound):
        join(merchant=other_merchant, group=leader.group)
    with pytest.raises(NotFound):
        group_open(
            merchant=other_merchant,
            customer=UserFactory(),
            campaign_id=campaign.pk,
            quantity=1,
            recipient=RECIPIENT,
        )
    with pytest.raises(DomainError) as over:
        join(merchant=merchant, group=leader.group, quantity=3)
    assert over.value.code == "group_buy_limit"
    assert Order.objects.count() == orders


def test_the_per_person_limit_counts_across_groups(merchant, campaign):
    buyer = UserFactory()
    open_paid(merchant=merchant, campaign=campaign, customer=buyer, quantity=2)
    other = open_paid(merchant=merchant, campaign=campaign)
    with pytest.raises(DomainError) as over:
        join(merchant=merchant, group=other.group, customer=buyer)
    assert over.value.code == "group_buy_limit"
    assert GroupMember.objects.filter(customer=buyer).count() == 1


def test_a_group_not_filled_in_time_is_closed_and_every_paid_member_refunded_once(
    merchant, campaign, group_sku, chain, refunds_delivered
):
    buyers = [UserFactory() for _ in range(3)]
    for buyer in buyers:
        bind(merchant=merchant, customer=buyer, distributor=chain[3])
    grant = granted(merchant, buyers[0], amount_off=D("5.00"), threshold=D("10.00"), stackable=True)
    leader = open_paid(merchant=merchant, campaign=campaign, customer=buyers[0])
    assert leader.order.payable_amount == D("55.00")  # the coupon on top of the group price
    paid = join(merchant=merchant, group=leader.group, customer=buyers[1])
    unpaid = join(merchant=merchant, group=leader.group, customer=buyers[2], paid=False)
    assert Sku.objects.get(pk=group_sku.pk).stock == 17
    later = timezone.now() + timedelta(hours=25)

    assert groups_close_expired(now=later) == 2
    assert groups_close_expired(now=later) == 0  # run again: nobody refunded twice
    assert deliver_refunds() == 2
    assert groups_close_expired(now=later) == 0

    group = Group.objects.get(pk=leader.group_id)
    assert group.status == G.FAILED
    statuses = dict(GroupMember.objects.filter(group=group).values_list("pk", "status"))
    assert statuses == {leader.pk: M.REFUNDED, paid.pk: M.REFUNDED, unpaid.pk: M.CANCELLED}
    for member in (leader, paid):
        cases = RefundCase.objects.filter(order_id=member.order_id)
        assert [(case.status, case.amount) for case in cases] == [
            (RefundCase.Status.REFUNDED, member.order.payable_amount)
        ]
        assert Order.objects.get(pk=member.order_id).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=unpaid.order_id).status == Order.Status.CANCELLED
    assert Sku.objects.get(pk=group_sku.pk).stock == 20  # every unit back
    assert CouponGrant.objects.get(pk=grant.pk).status == CouponGrant.Status.AVAILABLE
    assert GroupBuyPurchase.objects.filter(quantity__gt=0).count() == 0
    assert CommissionRecord.objects.count() == 0
    assert ledger_breaches() == []
    assert marketing_breaches() == []


def test_a_group_still_inside_its_time_is_not_closed(merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)
    assert groups_close_expired(now=timezone.now() + timedelta(hours=23)) == 0
    assert Group.objects.get(pk=leader.group_id).status == G.OPEN


def test_joining_a_failed_group_is_refused(merchant, campaign, refunds_delivered):
    leader = open_paid(merchant=merchant, campaign=campaign)
    groups_close_expired(now=timezone.now() + timedelta(hours=25))
    orders = Order.objects.count()
    with pytest.raises(Conflict) as refused:
        join(merchant=merchant, group=leader.group)
    assert refused.value.code == "group_closed"
    assert Order.objects.count() == orders


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"group_size": 1}, "invalid_size"),
        ({"group_price": "12.345"}, "invalid_price"),
        ({"group_price": "0"}, "invalid_price"),
        ({"time_limit_hours": 0}, "invalid_time_limit"),
        ({"per_person_limit": 0}, "invalid_limit"),
        ({"name": " "}, "name"),
    ],
)
def test_a_campaign_with_bad_settings_is_refused(merchant, group_sku, changes, code):
    now = timezone.now()
    values = {
        "name": "Pair",
        "group_price": D("50.00"),
        "group_size": 2,
        "time_limit_hours": 24,
        "starts_at": now,
        "ends_at": now + timedelta(days=1),
    }
    values.update(changes)
    with pytest.raises(DomainError) as refused:
        groupbuy_create(merchant=merchant, sku=group_sku, **values)
    assert refused.value.code == code


def test_a_campaign_for_another_merchants_sku_or_below_the_floor_is_refused(
    merchant, other_merchant
):
    now = timezone.now()
    window = {"starts_at": now, "ends_at": now + timedelta(days=1)}
    foreign = SkuFactory(product__merchant=other_merchant)
    with pytest.raises(NotFound):
        groupbuy_create(
            merchant=merchant,
            sku=foreign,
            name="x",
            group_price=D("1.00"),
            group_size=2,
            time_limit_hours=1,
            **window,
        )
    floored = SkuFactory(product__merchant=merchant, price=D("99.00"), min_resale_price=D("80.00"))
    with pytest.raises(DomainError) as refused:
        groupbuy_create(
            merchant=merchant,
            sku=floored,
            name="x",
            group_price=D("79.99"),
            group_size=2,
            time_limit_hours=1,
            **window,
        )
    assert refused.value.code == "below_floor"


def test_money_that_arrives_after_the_group_closed_is_refunded_by_the_next_run(
    merchant, campaign, refunds_delivered
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    late = join(merchant=merchant, group=leader.group, paid=False)
    payment = payment_start(merchant=merchant, customer=late.customer, order_id=late.order_id)
    later = timezone.now() + timedelta(hours=25)
    assert groups_close_expired(now=later) == 1  # the leader; the unpaid order is cancelled
    assert Order.objects.get(pk=late.order_id).status == Order.Status.CANCELLED

    body, headers = signed_notification(payment)
    payment_handle_notification(provider="sandbox", body=body, headers=headers)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUND_REQUIRED

    assert groups_close_expired(now=later) == 1
    assert groups_close_expired(now=later) == 0
    assert deliver_refunds() == 2
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
    assert RefundCase.objects.filter(payment=payment).count() == 1
    assert ledger_breaches() == []
