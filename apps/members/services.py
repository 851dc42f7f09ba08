"""Writes of the member programme: members, levels by spend, and the points ledger.

Points move only through ``_points_post``: one append-only ``PointsEntry`` per (member, key) —
a repeated call with the same key posts nothing — and the member's balance column changed by the
same amount in the same transaction, by a conditional UPDATE that never lets it go below zero.
Earned points are lots that expire; spending, expiry and take-backs draw from the oldest lot first
(``remaining``), so expiry takes only what was not used.
"""

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.core.money import ZERO
from apps.merchants.models import Merchant

from .models import Member, MemberLevel, PointsEntry, SpendEntry
from .selectors import member_period_spend, member_settings_for

K = PointsEntry.Kind


def member_get_or_create(*, merchant: Merchant, user: User) -> Member:
    """The customer's member row in this store (created at the base level on first need)."""
    return _member_by_ids(merchant_id=merchant.pk, user_id=user.pk)


def _member_by_ids(*, merchant_id: int, user_id: int) -> Member:
    member = Member.objects.filter(merchant_id=merchant_id, user_id=user_id).first()
    if member is not None:
        return member
    base = MemberLevel.objects.filter(merchant_id=merchant_id, min_spend=0).first()
    try:
        with transaction.atomic():
            return Member.objects.create(merchant_id=merchant_id, user_id=user_id, level=base)
    except IntegrityError:
        return Member.objects.get(merchant_id=merchant_id, user_id=user_id)


def _points_post(
    *,
    member: Member,
    kind: str,
    points: int,
    key: str,
    order_id: int | None = None,
    expires_at: datetime | None = None,
    note: str = "",
    draw: bool = True,
) -> PointsEntry | None:
    """Post one entry (None if ``key`` was already posted). Caller holds a transaction.

    A negative entry draws its points from the oldest lots (``draw``), except an expiry, whose
    lot the caller has already emptied."""
    if points == 0:
        return None
    try:
        with transaction.atomic():
            entry = PointsEntry.objects.create(
                merchant_id=member.merchant_id,
                member=member,
                kind=kind,
                points=points,
                order_id=order_id,
                expires_at=expires_at,
                remaining=points if points > 0 else 0,
                key=key,
                note=note[:255],
            )
    except IntegrityError:
        return None
    updated = Member.objects.filter(pk=member.pk, points_balance__gte=-points).update(
        points_balance=F("points_balance") + points
    )
    if not updated:
        raise DomainError(_("Not enough points."), code="points_over_balance")
    if points < 0 and draw:
        _draw_lots(member_id=member.pk, points=-points)
    return entry


def _draw_lots(*, member_id: int, points: int) -> None:
    """Use ``points`` from the member's lots, oldest expiry first (rows locked in that order)."""
    lots = (
        PointsEntry.objects.select_for_update()
        .filter(member_id=member_id, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    for lot in lots:
        if points <= 0:
            break
        used = min(lot.remaining, points)
        PointsEntry.objects.filter(pk=lot.pk).update(remaining=F("remaining") - used)
        points -= used


def points_spend(*, member: Member, points: int, order_id: int) -> None:
    """Spend points on an order being placed (Conflict if the balance moved meanwhile)."""
    try:
        _points_post(
            member=member, kind=K.SPENT, points=-points, key=f"spend:{order_id}", order_id=order_id
        )
    except DomainError as error:
        raise Conflict(
            _("Your points balance changed; review your order."), code="points_changed"
        ) from error


def points_return_for_order(*, merchant_id: int, order_id: int) -> int:
    """Give back what an order spent, once (its order was cancelled or fully refunded unpaid)."""
    spent = (
        PointsEntry.objects.filter(merchant_id=merchant_id, order_id=order_id, kind=K.SPENT)
        .select_related("member")
        .first()
    )
    if spent is None:
        return 0
    settings = member_settings_for(merchant_id=merchant_id)
    entry = _points_post(
        member=spent.member,
        kind=K.RETURNED,
        points=-spent.points,
        key=f"return:{order_id}",
        order_id=order_id,
        expires_at=timezone.now() + timedelta(days=settings.points_valid_days),
    )
    return entry.points if entry else 0


def member_order_completed(
    *, merchant_id: int, customer_id: int, order_id: int, paid: Decimal
) -> int:
    """A completed order counts toward the member's level and earns points (``paid`` × the
    store's rate, rounded down), once. Returns the points earned."""
    settings = member_settings_for(merchant_id=merchant_id)
    member = _member_by_ids(merchant_id=merchant_id, user_id=customer_id)
    _spend_post(member=member, amount=paid, key=f"order:{order_id}", order_id=order_id)
    points = int((paid * settings.points_per_yuan_earned).to_integral_value(rounding=ROUND_DOWN))
    if points <= 0:
        member_level_evaluate(member=member)
        return 0
    entry = _points_post(
        member=member,
        kind=K.EARNED,
        points=points,
        key=f"earn:{order_id}",
        order_id=order_id,
        expires_at=timezone.now() + timedelta(days=settings.points_valid_days),
    )
    member_level_evaluate(member=member)
    return entry.points if entry else 0


def member_order_refunded(
    *,
    merchant_id: int,
    customer_id: int,
    order_id: int,
    refund_key: str,
    refunded: Decimal,
    order_paid: Decimal,
) -> int:
    """A refund of ``refunded`` on an order that paid ``order_paid``: the refunded money stops
    counting toward the member's level, and the points the order earned are taken back pro rata
    (a full refund takes all that is left; never below a zero balance). Returns points taken."""
    member = Member.objects.filter(merchant_id=merchant_id, user_id=customer_id).first()
    if member is None or order_paid <= 0 or refunded <= 0:
        return 0
    earned = PointsEntry.objects.filter(member=member, order_id=order_id, kind=K.EARNED).first()
    if earned is None:  # not completed yet: nothing earned, no spend counted
        return 0
    _spend_post(member=member, amount=-refunded, key=f"refund:{refund_key}", order_id=order_id)
    taken = -(
        PointsEntry.objects.filter(member=member, order_id=order_id, kind=K.TAKEN_BACK).aggregate(
            total=Sum("points")
        )["total"]
        or 0
    )
    total_refunded = -(
        SpendEntry.objects.filter(member=member, order_id=order_id, amount__lt=0).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    # On the running total, so that pieces add up and a full refund takes everything earned.
    due = int(
        (Decimal(earned.points) * min(total_refunded, order_paid) / order_paid).to_integral_value(
            rounding=ROUND_DOWN
        )
    )
    share = due - taken
    member = Member.objects.select_for_update().get(pk=member.pk)
    share = min(share, member.points_balance)
    entry = None
    if share > 0:
        entry = _points_post(
            member=member,
            kind=K.TAKEN_BACK,
            points=-share,
            key=f"refund:{refund_key}",
            order_id=order_id,
        )
    member_level_evaluate(member=member)
    return -entry.points if entry else 0


def points_adjust(*, member: Member, points: int, note: str, key: str) -> PointsEntry | None:
    """Staff's manual adjustment (a positive grant expires like earned points)."""
    settings = member_settings_for(merchant_id=member.merchant_id)
    with transaction.atomic():
        return _points_post(
            member=member,
            kind=K.ADJUSTED,
            points=points,
            key=key,
            note=note,
            expires_at=timezone.now() + timedelta(days=settings.points_valid_days)
            if points > 0
            else None,
        )


def points_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Expire what is left of lots past their date (beat): one EXPIRED entry per lot, once."""
    now = now or timezone.now()
    expired = 0
    lot_ids = list(
        PointsEntry.objects.filter(expires_at__lte=now, remaining__gt=0)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for lot_id in lot_ids:
        with transaction.atomic():
            lot = PointsEntry.objects.select_for_update().filter(pk=lot_id, remaining__gt=0).first()
            if lot is None:
                continue
            member = Member.objects.select_for_update().get(pk=lot.member_id)
            amount = min(lot.remaining, member.points_balance)
            PointsEntry.objects.filter(pk=lot.pk).update(remaining=0)
            if amount > 0:
                _points_post(member=member, kind=K.EXPIRED, points=-amount, key=f"expire:{lot.pk}")
                # the lot just expired is at zero; _draw_lots took the rest from other lots only
                # if this one had less than the balance, which cannot be (amount ≤ lot.remaining)
                expired += amount
    return expired


def member_spend(*, member: Member, now: datetime | None = None) -> Decimal:
    """What the member paid for completed orders in the rolling period, net of refunds."""
    settings = member_settings_for(merchant_id=member.merchant_id)
    return member_period_spend(member=member, settings=settings, now=now)


def _spend_post(*, member: Member, amount: Decimal, key: str, order_id: int) -> None:
    try:
        with transaction.atomic():
            SpendEntry.objects.create(
                merchant_id=member.merchant_id,
                member=member,
                amount=amount,
                key=key,
                order_id=order_id,
            )
    except IntegrityError:
        pass


def member_level_evaluate(*, member: Member, now: datetime | None = None) -> MemberLevel | None:
    """Move the member to the highest level whose spend threshold their period spend reaches."""
    spend = member_spend(member=member, now=now)
    level = (
        MemberLevel.objects.filter(merchant_id=member.merchant_id, min_spend__lte=spend)
        .order_by("-min_spend")
        .first()
    )
    if level is not None and level.pk != member.level_id:
        Member.objects.filter(pk=member.pk).update(level=level)
        member.level = level
    return level
