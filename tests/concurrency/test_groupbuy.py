"""Group buying under real concurrency: real commits, threads released together, own connections."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import Conflict
from apps.groupbuy.models import Group, GroupMember
from apps.groupbuy.services import group_join, groupbuy_create, groups_close_expired
from apps.ledger.checks import ledger_breaches
from apps.orders.models import Order, OrderHold
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from apps.refunds.models import RefundCase
from tests.factories import SkuFactory, UserFactory
from tests.groupbuy.conftest import deliver_refunds, join, open_paid
from tests.services.flows import RECIPIENT, signed_notification

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
G = Group.Status
M = GroupMember.Status


@pytest.fixture(autouse=True)
def refund_deliveries_kept(monkeypatch):
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )


def make_campaign(merchant, *, size: int, stock: int = 50):
    sku = SkuFactory(product__merchant=merchant, price=D("99.00"), stock=stock)
    now = timezone.now()
    return groupbuy_create(
        merchant=merchant,
        sku=sku,
        name="Group",
        group_price=D("60.00"),
        group_size=size,
        time_limit_hours=24,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )


def test_concurrent_joiners_never_take_more_seats_than_the_group_has(merchant):
    campaign = make_campaign(merchant, size=5)
    leader = open_paid(merchant=merchant, campaign=campaign)
    joiners = [UserFactory() for _ in range(12)]

    def joining(customer):
        return lambda: group_join(
            merchant=merchant,
            customer=customer,
            group_id=leader.group_id,
            quantity=1,
            recipient=RECIPIENT,
        )

    outcomes = race([joining(customer) for customer in joiners])

    seated = [outcome for outcome in outcomes if outcome.error is None]
    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(seated) == 4
    assert len(refused) == 8
    assert all(isinstance(error, Conflict) and error.code == "group_full" for error in refused)
    group = Group.objects.get(pk=leader.group_id)
    assert (group.seats_taken, group.paid_count) == (5, 1)
    assert GroupMember.objects.filter(group=group, status__in=GroupMember.SEATED).count() == 5
    # Refused joiners left nothing behind: one order per seat, stock taken for five units only.
    assert Order.objects.count() == 5
    assert Sku.objects.get(pk=campaign.sku_id).stock == 45


def test_the_last_two_payments_racing_fill_the_group_once(merchant):
    campaign = make_campaign(merchant, size=3)
    leader = open_paid(merchant=merchant, campaign=campaign)
    members = [join(merchant=merchant, group=leader.group, paid=False) for _ in range(2)]
    notices = []
    for member in members:
        payment = payment_start(
            merchant=merchant, customer=member.customer, order_id=member.order_id
        )
        notices.append(signed_notification(payment))

    outcomes = race(
        [
            lambda body=body, headers=headers: payment_handle_notification(
                provider="sandbox", body=body, headers=headers
            )
            for body, headers in notices
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    group = Group.objects.get(pk=leader.group_id)
    assert (group.status, group.seats_taken, group.paid_count) == (G.FULL, 3, 3)
    assert OrderHold.objects.count() == 0


@pytest.mark.parametrize("round_", range(3))
def test_two_closing_jobs_racing_the_last_payment_refund_every_paid_member_exactly_once(
    merchant, round_
):
    campaign = make_campaign(merchant, size=3)
    leader = open_paid(merchant=merchant, campaign=campaign)
    second = join(merchant=merchant, group=leader.group)
    last = join(merchant=merchant, group=leader.group, paid=False)
    payment = payment_start(merchant=merchant, customer=last.customer, order_id=last.order_id)
    body, headers = signed_notification(payment)
    # The group's time ran out a moment ago; the last joiner's payment arrives as beat closes it.
    Group.objects.filter(pk=leader.group_id).update(deadline=timezone.now() - timedelta(seconds=1))

    outcomes = race(
        [
            groups_close_expired,
            groups_close_expired,
            lambda: payment_handle_notification(provider="sandbox", body=body, headers=headers),
        ]
    )
    assert [outcome.error for outcome in outcomes] == [None, None, None]
    groups_close_expired()  # a later run picks up a payment that arrived after the cancel
    groups_close_expired()
    deliver_refunds()

    group = Group.objects.get(pk=leader.group_id)
    payment.refresh_from_db()
    if group.status == G.FULL:
        # The payment won: the group filled before the job could fail it; nobody is refunded.
        assert RefundCase.objects.count() == 0
        assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.PAID}
        assert OrderHold.objects.count() == 0
    else:
        assert group.status == G.FAILED
        # Every payment that reached a member's order is refunded by exactly one case, in full.
        for member in (leader, second, last):
            cases = list(RefundCase.objects.filter(order_id=member.order_id))
            paid = Payment.objects.filter(order_id=member.order_id).exclude(
                status=Payment.Status.PENDING
            )
            assert len(cases) == paid.count() == 1
            assert cases[0].status == RefundCase.Status.REFUNDED
            assert cases[0].amount == paid.get().amount
        assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.CANCELLED}
        assert Sku.objects.get(pk=campaign.sku_id).stock == 50
    assert ledger_breaches() == []


@pytest.mark.parametrize("round_", range(3))
def test_a_last_joiner_racing_the_closing_job_is_refused_or_cancelled_never_left_seated(
    merchant, round_
):
    campaign = make_campaign(merchant, size=3)
    leader = open_paid(merchant=merchant, campaign=campaign)
    joiner = UserFactory()
    deadline = timezone.now() + timedelta(seconds=30)
    Group.objects.filter(pk=leader.group_id).update(deadline=deadline)

    # The joiner is still inside the time (their clock); beat's run is already past it (its clock).
    outcomes = race(
        [
            lambda: groups_close_expired(now=deadline + timedelta(seconds=1)),
            lambda: group_join(
                merchant=merchant,
                customer=joiner,
                group_id=leader.group_id,
                quantity=1,
                recipient=RECIPIENT,
            ),
        ]
    )
    groups_close_expired(now=deadline + timedelta(seconds=1))
    deliver_refunds()

    assert outcomes[0].error is None
    assert Group.objects.get(pk=leader.group_id).status == G.FAILED
    seat = GroupMember.objects.filter(customer=joiner).first()
    if outcomes[1].error is not None:
        # The job failed the group first: the join is refused and wrote nothing.
        assert isinstance(outcomes[1].error, Conflict)
        assert outcomes[1].error.code == "group_closed"
        assert seat is None
        assert not Order.objects.filter(customer=joiner).exists()
    else:
        # The join took the seat first: the job cancelled its unpaid order and freed the units.
        assert seat is not None and seat.status == M.CANCELLED
        assert Order.objects.get(customer=joiner).status == Order.Status.CANCELLED
    leader.refresh_from_db()
    assert leader.status == M.REFUNDED
    assert RefundCase.objects.filter(order_id=leader.order_id).count() == 1
    assert Sku.objects.get(pk=campaign.sku_id).stock == 50
    assert ledger_breaches() == []
