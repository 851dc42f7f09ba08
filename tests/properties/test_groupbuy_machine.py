"""A Hypothesis state machine over group buying, a sibling of the lifecycle machine
(``test_lifecycle_machine.py``), driven only through the services.

One store sells one SKU (stock 40) in a group buy (random group size 2-4, per-person limit 1-3)
to six buyers bound to a distributor. Buyers open groups and join them (full, closed, twice and
over-the-limit joins are refused), pay (the notification repeated), let unpaid seats expire, pay
after their order was cancelled; beat's closing job runs (once or twice) once the groups' time has
run out, and the provider confirms the refunds it was asked for; full groups' orders ship,
complete and settle.

After EVERY step: ``ledger_breaches() == []`` (the group checks included: seats equal members,
commission only on filled groups, refunded members given back what they paid); no group holds
more members than its size; no order has more than one refund case; every refunded order was
refunded exactly what it paid; the SKU's stock is 40 minus the units of the orders still alive.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.commissions.models import CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.core.errors import DomainError
from apps.distributors.services import distributor_join
from apps.groupbuy.models import Group, GroupMember
from apps.groupbuy.services import group_join, group_open, groupbuy_create, groups_close_expired
from apps.ledger.checks import ledger_breaches
from apps.merchants.services import merchant_create
from apps.orders.models import Order
from apps.orders.services import order_cancel, order_complete, order_ship
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from apps.products.services import product_create, sku_create
from apps.programme.binding import customer_bind
from apps.refunds.models import RefundCase
from tests.factories import UserFactory
from tests.refunds.conftest import notify
from tests.services.flows import signed_notification

from .model import RECIPIENT

D = Decimal
G = Group.Status
M = GroupMember.Status
STOCK = 40
GROUPBUY_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)
SEEN: dict[str, int] = {}


def note(what: str) -> None:
    SEEN[what] = SEEN.get(what, 0) + 1


class GroupBuyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.payments: list[int] = []  # started payments, notified later (perhaps too late)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(size=st.integers(2, 4), limit=st.integers(2, 3))
    def set_up(self, size: int, limit: int) -> None:
        self.merchant = merchant_create(name="Group Store", slug="groupbuy", owner=UserFactory())
        product = product_create(merchant=self.merchant, name="Tea")
        self.sku = sku_create(
            merchant=self.merchant,
            product_id=product.pk,
            name="Tin",
            code="T1",
            price=D("99.00"),
            stock=STOCK,
        )
        now = timezone.now()
        self.campaign = groupbuy_create(
            merchant=self.merchant,
            sku=self.sku,
            name="Group",
            group_price=D("60.00"),
            group_size=size,
            time_limit_hours=24,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=30),
            per_person_limit=limit,
        )
        distributor = distributor_join(merchant=self.merchant, user=UserFactory())
        self.buyers = [UserFactory() for _ in range(6)]
        for buyer in self.buyers:
            customer_bind(
                merchant=self.merchant, customer=buyer, invite_code=distributor.invite_code
            )

    # --- helpers ------------------------------------------------------------------------------

    def _members(self, *statuses: str) -> list[GroupMember]:
        return list(
            GroupMember.objects.filter(merchant=self.merchant, status__in=statuses)
            .select_related("order", "group")
            .order_by("id")
        )

    def _groups(self) -> list[Group]:
        return list(Group.objects.filter(merchant=self.merchant).order_by("id"))

    def _pay(self, member: GroupMember, times: int) -> None:
        payment = payment_start(
            merchant=self.merchant, customer=member.customer, order_id=member.order_id
        )
        body, headers = signed_notification(payment)
        for _ in range(times):
            payment_handle_notification(provider="sandbox", body=body, headers=headers)

    # --- rules --------------------------------------------------------------------------------

    @precondition(lambda self: Group.objects.filter(status__in=(G.PENDING, G.OPEN)).count() < 2)
    @rule(buyer=st.integers(0, 5), quantity=st.sampled_from([1, 1, 2, 4]))
    def open_group(self, buyer: int, quantity: int) -> None:
        try:
            group_open(
                merchant=self.merchant,
                customer=self.buyers[buyer],
                campaign_id=self.campaign.pk,
                quantity=quantity,
                recipient=RECIPIENT,
            )
            note("opened")
        except DomainError as error:
            note(f"open refused: {error.code}")

    @precondition(lambda self: Group.objects.filter(status=G.OPEN).exists())
    @rule(pick=st.integers(0, 50), buyer=st.integers(0, 5), quantity=st.sampled_from([1, 1, 3]))
    def join(self, pick: int, buyer: int, quantity: int) -> None:
        # Mostly groups open to join; now and then any group (pending, full, failed…).
        groups = self._groups()
        joinable = [group for group in groups if group.status == G.OPEN]
        if joinable and pick % 5 != 4:
            groups = joinable
        group = groups[pick % len(groups)]
        before = Order.objects.count()
        try:
            group_join(
                merchant=self.merchant,
                customer=self.buyers[buyer],
                group_id=group.pk,
                quantity=quantity,
                recipient=RECIPIENT,
            )
            note("joined")
        except DomainError as error:
            note(f"join refused: {error.code}")
            assert Order.objects.count() == before

    @precondition(lambda self: GroupMember.objects.filter(status=M.PENDING).exists())
    @rule(pick=st.integers(0, 50), times=st.integers(1, 2))
    def pay(self, pick: int, times: int) -> None:
        pending = self._members(M.PENDING)
        self._pay(pending[pick % len(pending)], times)
        note("paid")

    @precondition(lambda self: GroupMember.objects.filter(status=M.PENDING).exists())
    @rule(pick=st.integers(0, 50), pay_late=st.booleans())
    def expire(self, pick: int, pay_late: bool) -> None:
        if pick % 3 != 1:  # most unpaid seats are paid before they expire
            return
        pending = self._members(M.PENDING)
        member = pending[pick % len(pending)]
        payment = None
        if pay_late:
            payment = payment_start(
                merchant=self.merchant, customer=member.customer, order_id=member.order_id
            )
        assert order_cancel(order=member.order, reason="unpaid, expired") is True
        note("expired")
        if payment is not None:
            body, headers = signed_notification(payment)
            payment_handle_notification(provider="sandbox", body=body, headers=headers)
            assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUND_REQUIRED
            note("paid after expiry")

    @precondition(lambda self: Group.objects.filter(status=G.OPEN).exists())
    @rule(runs=st.integers(1, 2), now=st.integers(0, 3))
    def time_runs_out(self, runs: int, now: int) -> None:
        if now != 3:  # most steps the clock has not reached any deadline yet
            return
        later = timezone.now() + timedelta(hours=25)
        for _ in range(runs):
            groups_close_expired(now=later)
        if Group.objects.filter(merchant=self.merchant, status=G.FAILED).exists():
            note("a group failed")

    @precondition(
        lambda self: RefundCase.objects.filter(status=RefundCase.Status.REFUNDING).exists()
    )
    @rule()
    def provider_confirms_refunds(self) -> None:
        for case in RefundCase.objects.filter(
            merchant=self.merchant, status=RefundCase.Status.REFUNDING
        ).order_by("id"):
            assert notify(case) == "refunded"
            note("refund confirmed")

    @precondition(
        lambda self: GroupMember.objects.filter(
            status=M.PAID, group__status=G.FULL, order__status=Order.Status.PAID
        ).exists()
    )
    @rule(pick=st.integers(0, 50))
    def ship_and_complete(self, pick: int) -> None:
        ready = [
            member
            for member in self._members(M.PAID)
            if member.group.status == G.FULL and member.order.status == Order.Status.PAID
        ]
        member = ready[pick % len(ready)]
        order_ship(
            merchant=self.merchant,
            order_id=member.order_id,
            carrier="SF",
            tracking_number="SF1",
            actor=None,
        )
        order = Order.objects.get(pk=member.order_id)
        assert order_complete(order=order) is True
        assert commission_settle_orders(order_id=order.pk) == 1
        note("full group's order completed")

    @precondition(
        lambda self: (
            GroupMember.objects.filter(status=M.PAID, order__status=Order.Status.PAID)
            .exclude(group__status=G.FULL)
            .exists()
        )
    )
    @rule(go=st.integers(0, 4))
    def unfilled_orders_cannot_ship(self, go: int) -> None:
        if go != 4:  # now and then
            return
        member = next(m for m in self._members(M.PAID) if m.group.status != G.FULL)
        with pytest.raises(DomainError) as refused:
            order_ship(
                merchant=self.merchant,
                order_id=member.order_id,
                carrier="SF",
                tracking_number="SF1",
                actor=None,
            )
        assert refused.value.code == "order_on_hold"
        note("held order refused shipping")

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert ledger_breaches() == []

    @invariant()
    def never_more_members_than_seats(self) -> None:
        for group in Group.objects.filter(merchant=self.merchant).annotate(
            seated=Count("members", filter=Q(members__status__in=GroupMember.SEATED))
        ):
            assert group.seated <= group.size
            assert group.seats_taken <= group.size

    @invariant()
    def refunded_once_and_in_full(self) -> None:
        for order_id, cases, total, paid in (
            RefundCase.objects.filter(merchant=self.merchant)
            .exclude(status=RefundCase.Status.FAILED)
            .values("order_id")
            .annotate(cases=Count("id"), total=Sum("amount"))
            .values_list("order_id", "cases", "total", "order__payable_amount")
        ):
            assert cases == 1, f"order {order_id} has {cases} refund cases"
            assert total == paid

    @invariant()
    def commission_only_on_full_groups(self) -> None:
        orders = CommissionRecord.objects.filter(merchant=self.merchant).values("order_id")
        assert (
            not GroupMember.objects.filter(order_id__in=orders)
            .exclude(group__status=G.FULL)
            .exists()
        )

    @invariant()
    def stock_follows_the_live_orders(self) -> None:
        if not hasattr(self, "sku"):
            return
        alive = (
            GroupMember.objects.filter(merchant=self.merchant)
            .exclude(order__status=Order.Status.CANCELLED)
            .aggregate(units=Sum("quantity"))["units"]
            or 0
        )
        assert Sku.objects.get(pk=self.sku.pk).stock == STOCK - alive


@pytest.mark.django_db
def test_group_buy_state_machine(monkeypatch):
    from apps.payments import tasks as payment_tasks

    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )
    SEEN.clear()
    run_state_machine_as_test(GroupBuyMachine, settings=GROUPBUY_SETTINGS)
    print(sorted(SEEN.items()))
    reached = {what for what, count in SEEN.items() if count}
    assert reached >= REACHED, f"the examples never reached {sorted(REACHED - reached)}"


REACHED = {
    "opened",
    "joined",
    "paid",
    "expired",
    "a group failed",
    "refund confirmed",
    "join refused: group_full",
    "full group's order completed",
    "paid after expiry",
    "held order refused shipping",
}
