"""The group-buy part of ``ledger_check``: each breach is found, a sound store has none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.groupbuy.models import Group
from apps.groupbuy.services import group_fail, groups_close_expired
from apps.ledger.checks import ledger_breaches
from apps.orders.models import OrderHold

from .conftest import deliver_refunds, join, open_paid

pytestmark = pytest.mark.django_db


def group_breaches() -> list[str]:
    return [line for line in ledger_breaches() if "group" in line]


def test_seats_that_do_not_match_the_members_are_a_breach(merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)
    join(merchant=merchant, group=leader.group, paid=False)
    assert group_breaches() == []

    Group.objects.filter(pk=leader.group_id).update(seats_taken=1)

    assert group_breaches() == [
        f"group {leader.group_id} (open): seats 1 taken / 1 paid, members 2 seated / 1 paid"
    ]


def test_a_full_group_whose_order_is_still_held_is_a_breach(merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)
    join(merchant=merchant, group=leader.group)
    join(merchant=merchant, group=leader.group)
    assert group_breaches() == []

    OrderHold.objects.create(
        merchant=merchant, order_id=leader.order_id, reason=OrderHold.Reason.GROUP_BUY
    )

    assert group_breaches() == [
        f"order {leader.order_id}: its group is full but it is still held back from shipping"
    ]


def test_a_failed_group_left_unrefunded_is_a_breach_until_the_job_refunds_it(
    merchant, campaign, refunds_delivered
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    later = timezone.now() + timedelta(hours=25)
    assert group_fail(group_id=leader.group_id, now=later) is True
    Group.objects.filter(pk=leader.group_id).update(closed_at=timezone.now() - timedelta(hours=2))

    assert group_breaches() == [
        f"group member {leader.pk}: paid in failed group {leader.group_id} and never refunded"
    ]
    assert groups_close_expired(now=later) == 1
    assert deliver_refunds() == 1
    assert ledger_breaches() == []
