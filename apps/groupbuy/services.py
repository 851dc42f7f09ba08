"""拼团: opening and joining groups, filling them, and closing those that did not fill.

Order of locks, the same on every path (so no two paths wait on each other in a circle): a
payment, then its order, then the group, then member rows. Placing a seat's order reserves the
SKU's stock first (orders' placement) and takes the group's seat as its last statement, so the
hot group row is held only for the commit.

- A seat is an order placed at the group price through the one pricing pipeline (the group price
  is a channel price at the promotion step: the order's breakdown shows it) with a shipping hold
  (``OrderHold``): it cannot ship until the group is full.
- The seat is taken by ``UPDATE … SET seats_taken = seats_taken + 1 WHERE status = 'open' AND
  seats_taken < size AND deadline > now``; whoever finds no row changed is told the group is full
  or closed, and their whole placement rolls back (nothing written).
- Payment (``OrderPaid``): the opener's opens the group (its deadline starts then); the payment
  that makes every seat paid fills it and lifts its orders' holds.
- An unpaid order cancelled or expired (``OrderCancelled``) gives its seat back.
- Beat's ``groups_close_expired`` fails open groups past their deadline (a compare-and-swap
  open → failed under the group lock), cancels their unpaid orders and refunds every paid member
  in full through the refund path (``apps.refunds.services.refund_open_in_full``): one case per
  member, guarded by the member's paid → refunding compare-and-swap and by the refund path's own
  bound (nothing left to refund), so a second run, or a run racing the last joiner's payment,
  refunds nobody twice. Commission is never due on such orders: they never ship, so never
  complete, and settlement runs only on completion.
"""

import contextlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import NotTwoPlaces, parse_two_places
from apps.core.state import compare_and_swap
from apps.marketing.pricing import BEST_COUPON
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderHold
from apps.orders.services import (
    Discounts,
    Recipient,
    order_cancel,
    order_hold_place,
    order_holds_release,
    order_place,
)
from apps.payments.models import Payment
from apps.products.models import Sku
from apps.refunds.models import RefundCase
from apps.refunds.services import (
    payment_refund_unclaimed,
    refund_execute,
    refund_open_in_full,
    refundable_lines,
)

from .models import (
    MAX_GROUP_SIZE,
    MAX_TIME_LIMIT_HOURS,
    Group,
    GroupBuy,
    GroupBuyPurchase,
    GroupMember,
)

logger = logging.getLogger(__name__)
G = Group.Status
M = GroupMember.Status
FAILED_REFUND_REASON = "group buy did not fill in time"


def group_price_label() -> str:
    """How the group price appears in an order's price breakdown (the request's language)."""
    return _("Group price")


# --- campaigns --------------------------------------------------------------------------------


def groupbuy_create(
    *,
    merchant: Merchant,
    sku: Sku,
    name: str,
    group_price: Decimal | str,
    group_size: int,
    time_limit_hours: int,
    starts_at: datetime,
    ends_at: datetime,
    per_person_limit: int = 1,
) -> GroupBuy:
    """A group-buy campaign for one of the merchant's SKUs (NotFound for another merchant's)."""
    if sku.merchant_id != merchant.pk:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise DomainError(_("Give the group buy a name (at most 64 characters)."), code="name")
    try:
        price = parse_two_places(group_price)
    except NotTwoPlaces as error:
        raise DomainError(_("Enter a price such as 12.50."), code="invalid_price") from error
    if price <= 0:
        raise DomainError(_("The group price must be more than zero."), code="invalid_price")
    if sku.min_resale_price is not None and price < sku.min_resale_price:
        raise DomainError(_("The group price is below the item's price floor."), code="below_floor")
    if not _whole(group_size, low=2, high=MAX_GROUP_SIZE):
        raise DomainError(
            _("A group has 2 to %(n)d people.") % {"n": MAX_GROUP_SIZE}, code="invalid_size"
        )
    if not _whole(time_limit_hours, low=1, high=MAX_TIME_LIMIT_HOURS):
        raise DomainError(
            _("A group has 1 to %(n)d hours to fill.") % {"n": MAX_TIME_LIMIT_HOURS},
            code="invalid_time_limit",
        )
    if not _whole(per_person_limit, low=1, high=10**6):
        raise DomainError(_("The per-person limit must be at least 1."), code="invalid_limit")
    if ends_at <= starts_at:
        raise DomainError(_("The end must be after the start."), code="invalid_window")
    return GroupBuy.objects.create(
        merchant=merchant,
        sku=sku,
        name=name,
        group_price=price,
        group_size=group_size,
        time_limit_hours=time_limit_hours,
        starts_at=starts_at,
        ends_at=ends_at,
        per_person_limit=per_person_limit,
    )


def _whole(value: object, *, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


# --- opening and joining ----------------------------------------------------------------------


def group_open(
    *,
    merchant: Merchant,
    customer: User,
    campaign_id: int,
    quantity: int,
    recipient: Recipient,
    coupon: object = BEST_COUPON,
    points: int = 0,
    now: datetime | None = None,
) -> GroupMember:
    """Open a group: the opener's order at the group price (the group opens when it is paid)."""
    now = now or timezone.now()
    campaign = GroupBuy.objects.filter(merchant=merchant, pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("No such group buy."), code="unknown_group_buy")
    if not (campaign.is_active and campaign.starts_at <= now < campaign.ends_at):
        raise Conflict(_("This group buy is not running now."), code="group_buy_not_running")
    _check_quantity(campaign, quantity)
    with transaction.atomic():
        group = Group.objects.create(
            merchant=merchant,
            campaign=campaign,
            leader=customer,
            size=campaign.group_size,
            seats_taken=1,
        )
        return _seat(
            campaign=campaign,
            group=group,
            customer=customer,
            quantity=quantity,
            recipient=recipient,
            discounts=_discounts(campaign, coupon=coupon, points=points),
            is_leader=True,
            now=now,
        )


def group_join(
    *,
    merchant: Merchant,
    customer: User,
    group_id: int,
    quantity: int,
    recipient: Recipient,
    coupon: object = BEST_COUPON,
    points: int = 0,
    now: datetime | None = None,
) -> GroupMember:
    """Take a seat in an open group: an order at the group price, placed only if a seat is free.

    A full group (Conflict ``group_full``), a closed one (``group_closed``), a group the customer
    is already in (``already_in_group``): nothing is written."""
    now = now or timezone.now()
    group = Group.objects.filter(merchant=merchant, pk=group_id).select_related("campaign").first()
    if group is None:
        raise NotFound(_("No such group."), code="unknown_group")
    _check_joinable(group, now=now)
    if GroupMember.objects.filter(
        group=group, customer=customer, status__in=GroupMember.SEATED
    ).exists():
        raise Conflict(_("You are already in this group."), code="already_in_group")
    _check_quantity(group.campaign, quantity)
    with transaction.atomic():
        return _seat(
            campaign=group.campaign,
            group=group,
            customer=customer,
            quantity=quantity,
            recipient=recipient,
            discounts=_discounts(group.campaign, coupon=coupon, points=points),
            is_leader=False,
            now=now,
        )


def _discounts(campaign: GroupBuy, *, coupon: object, points: int) -> Discounts:
    return Discounts(
        coupon=coupon,
        points=points,
        channel_prices={campaign.sku_id: campaign.group_price},
        channel_label=group_price_label(),
    )


def _check_quantity(campaign: GroupBuy, quantity: object) -> None:
    if not _whole(quantity, low=1, high=campaign.per_person_limit):
        raise DomainError(
            _("You may buy 1 to %(n)d of this group buy.") % {"n": campaign.per_person_limit},
            code="group_buy_limit",
        )


def _check_joinable(group: Group, *, now: datetime) -> None:
    if group.status == G.FULL or (group.status == G.OPEN and group.seats_taken >= group.size):
        raise Conflict(_("This group is full."), code="group_full")
    if group.status != G.OPEN or group.deadline is None or group.deadline <= now:
        raise Conflict(_("This group is closed."), code="group_closed")


def _seat(
    *,
    campaign: GroupBuy,
    group: Group,
    customer: User,
    quantity: int,
    recipient: Recipient,
    discounts: Discounts,
    is_leader: bool,
    now: datetime,
) -> GroupMember:
    """The seat's order, hold and member row, then the seat itself (caller's transaction)."""
    _hold_quota(campaign=campaign, customer_id=customer.pk, quantity=quantity)
    order = order_place(
        merchant=group.merchant,
        customer=customer,
        lines=[(campaign.sku_id, quantity)],
        recipient=recipient,
        discounts=discounts,
    )
    order_hold_place(order=order, reason=OrderHold.Reason.GROUP_BUY)
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(
                merchant_id=group.merchant_id,
                group=group,
                customer=customer,
                order=order,
                quantity=quantity,
                is_leader=is_leader,
            )
    except IntegrityError as error:
        raise Conflict(_("You are already in this group."), code="already_in_group") from error
    if not is_leader:  # the opener's seat came with the group
        _take_seat(group=group, now=now)
    return member


def _take_seat(*, group: Group, now: datetime) -> None:
    taken = Group.objects.filter(
        pk=group.pk, status=G.OPEN, seats_taken__lt=F("size"), deadline__gt=now
    ).update(seats_taken=F("seats_taken") + 1)
    if not taken:
        current = Group.objects.get(pk=group.pk)
        _check_joinable(current, now=now)
        raise Conflict(_("This group is full."), code="group_full")


def _hold_quota(*, campaign: GroupBuy, customer_id: int, quantity: int) -> None:
    """The per-person limit, as one conditional upsert (two racing seats cannot both pass it)."""
    limit = campaign.per_person_limit
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {GroupBuyPurchase._meta.db_table} AS p "  # noqa: S608 (our table)
            "(merchant_id, campaign_id, customer_id, quantity) "
            "SELECT %s, %s, %s, %s WHERE %s <= %s "
            "ON CONFLICT (campaign_id, customer_id) DO UPDATE "
            "SET quantity = p.quantity + EXCLUDED.quantity "
            "WHERE p.quantity + EXCLUDED.quantity <= %s RETURNING quantity",
            [campaign.merchant_id, campaign.pk, customer_id, quantity, quantity, limit, limit],
        )
        if cursor.fetchone() is None:
            raise DomainError(
                _("At most %(n)d of “%(name)s” per person.") % {"n": limit, "name": campaign.name},
                code="group_buy_limit",
            )


def _give_back_quota(member: GroupMember) -> None:
    GroupBuyPurchase.objects.filter(
        campaign_id=member.group.campaign_id, customer_id=member.customer_id
    ).update(quantity=F("quantity") - member.quantity)


# --- what payments, cancellations and refunds do to a group ------------------------------------


def _member_of_order(order_id: int) -> GroupMember | None:
    return GroupMember.objects.filter(order_id=order_id).select_related("group").first()


def group_member_paid(*, order_id: int, now: datetime | None = None) -> None:
    """A seat's order was paid (in the payment's transaction, which holds the order's lock).

    The opener's payment opens the group and starts its clock; the payment that makes every seat
    paid fills it and lifts the holds of all its orders. A payment for a group already failed
    leaves the member paid: the closing job refunds it."""
    member = _member_of_order(order_id)
    if member is None:
        return
    now = now or timezone.now()
    group = Group.objects.select_for_update().get(pk=member.group_id)
    if not compare_and_swap(
        GroupMember.objects, pk=member.pk, field="status", old=M.PENDING, new=M.PAID, paid_at=now
    ):
        return
    if group.status == G.PENDING and member.is_leader:
        hours = (
            GroupBuy.objects.filter(pk=group.campaign_id)
            .values_list("time_limit_hours", flat=True)
            .get()
        )
        compare_and_swap(
            Group.objects,
            pk=group.pk,
            field="status",
            old=G.PENDING,
            new=G.OPEN,
            opened_at=now,
            deadline=now + timedelta(hours=hours),
            paid_count=1,
        )
    elif group.status == G.OPEN:
        paid = group.paid_count + 1
        if paid >= group.size:
            compare_and_swap(
                Group.objects,
                pk=group.pk,
                field="status",
                old=G.OPEN,
                new=G.FULL,
                paid_count=paid,
                filled_at=now,
            )
            order_holds_release(
                order_ids=list(
                    GroupMember.objects.filter(group=group, status=M.PAID).values_list(
                        "order_id", flat=True
                    )
                ),
                reason=OrderHold.Reason.GROUP_BUY,
            )
        else:
            Group.objects.filter(pk=group.pk).update(paid_count=paid)


def group_member_cancelled(*, order_id: int, now: datetime | None = None) -> None:
    """A seat's unpaid order was cancelled or expired: the seat (and the units) are free again.
    An opener who never paid takes the group with them (it was never open)."""
    member = _member_of_order(order_id)
    if member is None:
        return
    now = now or timezone.now()
    group = Group.objects.select_for_update().get(pk=member.group_id)
    if not compare_and_swap(
        GroupMember.objects, pk=member.pk, field="status", old=M.PENDING, new=M.CANCELLED
    ):
        return
    _give_back_quota(member)
    order_holds_release(order_ids=[order_id], reason=OrderHold.Reason.GROUP_BUY)
    if group.status == G.PENDING and member.is_leader:
        compare_and_swap(
            Group.objects,
            pk=group.pk,
            field="status",
            old=G.PENDING,
            new=G.CANCELLED,
            seats_taken=0,
            closed_at=now,
        )
    elif group.status == G.OPEN:
        Group.objects.filter(pk=group.pk).update(seats_taken=F("seats_taken") - 1)


def group_member_refunded(*, order_id: int) -> None:
    """A refund of a seat's order completed (in the refund's transaction, under the order lock).
    Once nothing is left to refund, the member is refunded; a paid member of a group still open
    (who asked for their money back) frees their seat."""
    member = _member_of_order(order_id)
    if member is None or member.status not in (M.PAID, M.REFUNDING):
        return
    order = Order.objects.get(pk=order_id)
    if any(line.amount > 0 for line in refundable_lines(order=order)):
        return
    group = Group.objects.select_for_update().get(pk=member.group_id)
    if not compare_and_swap(
        GroupMember.objects, pk=member.pk, field="status", old=member.status, new=M.REFUNDED
    ):
        return
    _give_back_quota(member)
    if member.status == M.PAID and group.status == G.OPEN:
        Group.objects.filter(pk=group.pk).update(
            seats_taken=F("seats_taken") - 1, paid_count=F("paid_count") - 1
        )


# --- closing groups that did not fill ---------------------------------------------------------


def group_fail(*, group_id: int, now: datetime | None = None) -> bool:
    """open → failed for a group past its deadline; True if this call made it."""
    now = now or timezone.now()
    with transaction.atomic():
        group = (
            Group.objects.select_for_update()
            .filter(pk=group_id, status=G.OPEN, deadline__lte=now)
            .first()
        )
        if group is None:
            return False
        return compare_and_swap(
            Group.objects, pk=group.pk, field="status", old=G.OPEN, new=G.FAILED, closed_at=now
        )


def group_refund_members(*, group_id: int) -> int:
    """A failed group's members: unpaid orders cancelled, paid ones refunded in full, each once.
    Returns how many refunds this call opened. Safe to run again, and beside a late payment."""
    group = Group.objects.select_related("merchant").get(pk=group_id, status=G.FAILED)
    for member in GroupMember.objects.filter(group=group, status=M.PENDING).select_related("order"):
        with contextlib.suppress(Conflict):  # paid meanwhile: refunded below
            order_cancel(order=member.order, reason="group buy did not fill in time")
    opened = 0
    for member_id, order_id in GroupMember.objects.filter(group=group, status=M.PAID).values_list(
        "pk", "order_id"
    ):
        try:
            with transaction.atomic():
                case = refund_open_in_full(
                    merchant=group.merchant, order_id=order_id, reason=FAILED_REFUND_REASON
                )
                if not compare_and_swap(
                    GroupMember.objects,
                    pk=member_id,
                    field="status",
                    old=M.PAID,
                    new=M.REFUNDING,
                    refund_case=case,
                ):
                    raise Conflict("member changed meanwhile", code="member_changed")
        except Conflict as error:
            # Nothing left to refund (a case of the customer's own holds it: its completion
            # marks the member refunded), or another run got there first.
            logger.info("group %s, order %s: no refund opened (%s)", group.pk, order_id, error)
            continue
        refund_execute(case_id=case.pk)
        opened += 1
    return opened + _refund_late_payments(group)


def _refund_late_payments(group: Group) -> int:
    """Money that arrived after a member's order was cancelled (the group closing, the order
    expiring) is given back through the refund path's own flow for it, once per payment."""
    opened = 0
    for payment_id in (
        Payment.objects.filter(
            status=Payment.Status.REFUND_REQUIRED,
            order_id__in=GroupMember.objects.filter(group=group, status=M.CANCELLED).values(
                "order_id"
            ),
        )
        .exclude(refund_cases__status__in=RefundCase.HOLDING_STATUSES)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        payment_refund_unclaimed(merchant=group.merchant, payment_id=payment_id, actor=None)
        opened += 1
    return opened


def groups_close_expired(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat: fail the open groups past their deadline and refund the members of every failed
    group that still has unpaid or paid members. Returns how many refunds were opened."""
    now = now or timezone.now()
    for group_id in (
        Group.objects.filter(status=G.OPEN, deadline__lte=now)
        .order_by("deadline", "id")
        .values_list("pk", flat=True)[:limit]
    ):
        group_fail(group_id=group_id, now=now)
    opened = 0
    seated = GroupMember.objects.filter(group=OuterRef("pk"), status__in=(M.PENDING, M.PAID))
    paid_late = Payment.objects.filter(
        status=Payment.Status.REFUND_REQUIRED,
        order_id__in=GroupMember.objects.filter(
            group=OuterRef(OuterRef("pk")), status=M.CANCELLED
        ).values("order_id"),
    ).exclude(refund_cases__status__in=RefundCase.HOLDING_STATUSES)
    for group_id in (
        Group.objects.filter(status=G.FAILED)
        .filter(Exists(seated) | Exists(paid_late))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    ):
        opened += group_refund_members(group_id=group_id)
    return opened
