"""A running group buy (3 people at ¥60.00 instead of ¥99.00) and the steps of a seat."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from apps.groupbuy.models import GroupBuy, GroupMember
from apps.groupbuy.services import group_join, group_open, groupbuy_create
from apps.payments import tasks as payment_tasks
from apps.refunds.models import RefundCase
from tests.factories import SkuFactory, UserFactory
from tests.refunds.conftest import notify
from tests.services.flows import RECIPIENT, pay

D = Decimal


@pytest.fixture(autouse=True)
def _english():
    """Labels written into orders (the group price step) are in the language active when the
    order is placed: English here, whatever an earlier request left active in this thread."""
    with translation.override("en"):
        yield


@pytest.fixture
def group_sku(merchant):
    return SkuFactory(product__merchant=merchant, price=D("99.00"), stock=20)


@pytest.fixture
def campaign(merchant, group_sku) -> GroupBuy:
    now = timezone.now()
    return groupbuy_create(
        merchant=merchant,
        sku=group_sku,
        name="Three for tea",
        group_price=D("60.00"),
        group_size=3,
        time_limit_hours=24,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
        per_person_limit=2,
    )


@pytest.fixture
def refunds_delivered(monkeypatch):
    """The sandbox's refund notifications: recorded, delivered by the test through ``deliver``."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *a: calls.append(a)
    )
    return calls


def deliver_refunds() -> int:
    """Confirm every refund case still waiting for the provider; how many were confirmed."""
    confirmed = 0
    for case in RefundCase.objects.filter(status=RefundCase.Status.REFUNDING).order_by("id"):
        assert notify(case) == "refunded"
        confirmed += 1
    return confirmed


def open_paid(*, merchant, campaign, customer=None, quantity=1) -> GroupMember:
    customer = customer or UserFactory()
    member = group_open(
        merchant=merchant,
        customer=customer,
        campaign_id=campaign.pk,
        quantity=quantity,
        recipient=RECIPIENT,
    )
    pay(merchant=merchant, customer=customer, order=member.order)
    member.refresh_from_db()
    return member


def join(*, merchant, group, customer=None, quantity=1, paid=True) -> GroupMember:
    customer = customer or UserFactory()
    member = group_join(
        merchant=merchant,
        customer=customer,
        group_id=group.pk,
        quantity=quantity,
        recipient=RECIPIENT,
    )
    if paid:
        pay(merchant=merchant, customer=customer, order=member.order)
        member.refresh_from_db()
    return member
