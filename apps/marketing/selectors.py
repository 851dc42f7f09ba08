"""Reads of the marketing centre: what the coupon centre offers, what a customer holds."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.merchants.models import Merchant

from .models import Coupon, CouponClaimCount, CouponGrant

# A customer's coupons by state, as the member page and the API sort them (未使用/已使用/已过期).
GRANT_STATES: Sequence[tuple[str, object]] = (
    ("unused", _("Unused")),
    ("used", _("Used")),
    ("expired", _("Expired")),
)


def _on_offer(now: datetime) -> Q:
    return Q(is_active=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))


def coupons_on_offer(
    *, merchant: Merchant, now: datetime | None = None, shareable: bool = False
) -> "QuerySet[Coupon]":
    """Coupons that can still be claimed now: in the coupon centre (``claimable``), or, with
    ``shareable``, the ones distributors may share. Newest first."""
    now = now or timezone.now()
    wanted = Q(distributor_shareable=True) if shareable else Q(claimable=True)
    return Coupon.objects.filter(
        _on_offer(now), wanted, merchant=merchant, issued_count__lt=F("total_quantity")
    ).order_by("-id")


def coupon_on_offer(
    *, merchant: Merchant, coupon_id: int, now: datetime | None = None
) -> Coupon | None:
    """One coupon of the store that the centre or a coupon link offers now (perhaps all claimed
    already: its page says so), else None."""
    now = now or timezone.now()
    return (
        Coupon.objects.filter(_on_offer(now), merchant=merchant, pk=coupon_id)
        .filter(Q(claimable=True) | Q(distributor_shareable=True))
        .first()
    )


def claimed_counts(*, merchant: Merchant, customer: User | None) -> dict[int, int]:
    """How many of each coupon the customer has claimed in this store (one query; none signed out)."""
    if customer is None or customer.pk is None:
        return {}
    return dict(
        CouponClaimCount.objects.filter(merchant=merchant, customer=customer).values_list(
            "coupon_id", "claimed"
        )
    )


def customer_coupons(
    *, merchant: Merchant, customer: User, state: str = "", now: datetime | None = None
) -> "QuerySet[CouponGrant]":
    """The customer's coupons in this store: ``unused`` (usable or not yet valid), ``used``,
    ``expired`` (out of date, or withdrawn), or all of them. Soonest to expire first."""
    now = now or timezone.now()
    grants = CouponGrant.objects.filter(merchant=merchant, customer=customer).select_related(
        "coupon"
    )
    unused = Q(status=CouponGrant.Status.AVAILABLE, valid_until__gt=now, coupon__is_active=True)
    if state == "unused":
        grants = grants.filter(unused)
    elif state == "used":
        grants = grants.filter(status=CouponGrant.Status.USED)
    elif state == "expired":
        grants = grants.exclude(unused).exclude(status=CouponGrant.Status.USED)
    return grants.order_by("valid_until", "id")


def grant_state(grant: CouponGrant, *, now: datetime | None = None) -> str:
    """``unused``, ``used`` or ``expired``, as ``customer_coupons`` sorts them."""
    now = now or timezone.now()
    if grant.status == CouponGrant.Status.USED:
        return "used"
    usable = (
        grant.status == CouponGrant.Status.AVAILABLE
        and grant.valid_until > now
        and grant.coupon.is_active
    )
    return "unused" if usable else "expired"
