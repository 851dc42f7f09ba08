"""Reads of the member programme."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.core.money import ZERO, quantize_money

from .models import Member, MemberLevel, MemberSettings, PointsEntry, SpendEntry


def member_settings_for(*, merchant_id: int) -> MemberSettings:
    """The store's member settings, or the defaults (unsaved) if it never changed them."""
    found = MemberSettings.objects.filter(merchant_id=merchant_id).first()
    return found if found is not None else MemberSettings(merchant_id=merchant_id)


def member_period_spend(
    *, member: Member, settings: MemberSettings, now: datetime | None = None
) -> Decimal:
    """What the member paid for completed orders in the rolling period, net of refunds."""
    since = (now or timezone.now()) - timedelta(days=settings.level_period_days)
    total = SpendEntry.objects.filter(member=member, created_at__gte=since).aggregate(
        total=Sum("amount")
    )["total"]
    return max(quantize_money(total or ZERO), ZERO)


@dataclass(frozen=True)
class MemberProfile:
    """A customer's standing in one store, as the member page and the API show it."""

    member: Member | None  # None: never ordered nor claimed anything here yet
    level: MemberLevel | None
    next_level: MemberLevel | None
    spend: Decimal  # paid for completed orders in the rolling period, net of refunds
    period_days: int
    points_balance: int
    points_per_yuan_redeemed: int

    @property
    def discount_percent(self) -> Decimal:
        return self.level.discount_percent if self.level is not None else ZERO

    @property
    def to_next_level(self) -> Decimal | None:
        """What is still to spend to reach the next level (None at the top)."""
        if self.next_level is None:
            return None
        return max(self.next_level.min_spend - self.spend, ZERO)

    @property
    def progress_percent(self) -> int:
        """How far from this level's threshold to the next one's (100 at the top)."""
        if self.next_level is None:
            return 100
        start = self.level.min_spend if self.level is not None else ZERO
        span = self.next_level.min_spend - start
        if span <= 0:
            return 100
        done = (self.spend - start) / span * 100
        return int(min(max(done, ZERO), Decimal(100)))


def member_profile(*, merchant_id: int, user_id: int, now: datetime | None = None) -> MemberProfile:
    """Level, spend toward the next level and points of a customer (four queries; reads only)."""
    settings = member_settings_for(merchant_id=merchant_id)
    member = (
        Member.objects.filter(merchant_id=merchant_id, user_id=user_id)
        .select_related("level")
        .first()
    )
    levels = list(MemberLevel.objects.filter(merchant_id=merchant_id).order_by("min_spend", "id"))
    spend = ZERO
    if member is not None:
        spend = member_period_spend(member=member, settings=settings, now=now)
    level = (
        member.level
        if member is not None
        else next((found for found in levels if found.min_spend == 0), None)
    )
    floor = level.min_spend if level is not None else ZERO
    next_level = next((found for found in levels if found.min_spend > floor), None)
    return MemberProfile(
        member=member,
        level=level,
        next_level=next_level,
        spend=spend,
        period_days=settings.level_period_days,
        points_balance=member.points_balance if member is not None else 0,
        points_per_yuan_redeemed=settings.points_per_yuan_redeemed,
    )


def points_history(*, merchant_id: int, user_id: int) -> "QuerySet[PointsEntry]":
    """The customer's points entries in this store, newest first."""
    return PointsEntry.objects.filter(merchant_id=merchant_id, member__user_id=user_id).order_by(
        "-id"
    )
