"""Reads of group buying for the storefront and the API: what a product offers, the groups open
to join, one group's page. Every read is scoped to one merchant."""

from datetime import datetime

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from apps.merchants.models import Merchant

from .models import Group, GroupBuy, GroupMember

OPEN_GROUPS_SHOWN = 10


def group_buys_running(*, merchant: Merchant, now: datetime | None = None) -> "QuerySet[GroupBuy]":
    """Campaigns in which a group may be opened now (active, inside their window)."""
    now = now or timezone.now()
    return (
        GroupBuy.objects.filter(
            merchant=merchant,
            is_active=True,
            starts_at__lte=now,
            ends_at__gt=now,
            sku__is_active=True,
            sku__product__is_active=True,
        )
        .select_related("sku__product")
        .order_by("ends_at", "id")
    )


def joinable_groups(*, merchant: Merchant, now: datetime | None = None) -> "QuerySet[Group]":
    """Groups open now with a free seat, those closest to their deadline first."""
    now = now or timezone.now()
    return (
        Group.objects.filter(
            merchant=merchant,
            status=Group.Status.OPEN,
            deadline__gt=now,
            seats_taken__lt=F("size"),
        )  # fmt: skip
        .select_related("leader")
        .order_by("deadline", "id")
    )


def group_buys_for_product(
    *, merchant: Merchant, product_id: int, now: datetime | None = None
) -> list[GroupBuy]:
    """The running campaigns of a product's SKUs, with their groups to join (two queries)."""
    now = now or timezone.now()
    campaigns = list(
        group_buys_running(merchant=merchant, now=now).filter(sku__product_id=product_id)
    )
    return attach_joinable_groups(merchant=merchant, campaigns=campaigns, now=now)


def attach_joinable_groups(
    *, merchant: Merchant, campaigns: list[GroupBuy], now: datetime | None = None
) -> list[GroupBuy]:
    """Set ``joinable`` on each campaign: up to ``OPEN_GROUPS_SHOWN`` of its groups to join, the
    closest to their deadline first (one query for all of them; none without campaigns)."""
    by_campaign: dict[int, list[Group]] = {}
    if campaigns:
        groups = joinable_groups(merchant=merchant, now=now).filter(
            campaign_id__in=[campaign.pk for campaign in campaigns]
        )
        for group in groups:
            shown = by_campaign.setdefault(group.campaign_id, [])
            if len(shown) < OPEN_GROUPS_SHOWN:
                shown.append(group)
    for campaign in campaigns:
        campaign.joinable = by_campaign.get(campaign.pk, [])  # type: ignore[attr-defined]
    return campaigns


def group_for_store(*, merchant: Merchant, group_id: int) -> Group | None:
    """One group of this store with its campaign, SKU, product and its seated members."""
    return (
        Group.objects.filter(merchant=merchant, pk=group_id)
        .select_related("campaign__sku__product", "leader")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=GroupMember.objects.filter(status__in=GroupMember.SEATED)
                .select_related("customer")
                .order_by("id"),
                to_attr="seated",
            )
        )
        .first()
    )


def seat_of_order(*, merchant: Merchant, order_id: int) -> GroupMember | None:
    """The group-buy seat an order pays for, with its group (None for any other order)."""
    return (
        GroupMember.objects.filter(merchant=merchant, order_id=order_id)
        .select_related("group")
        .first()
    )
