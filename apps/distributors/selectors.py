from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.merchants.models import Merchant
from apps.products.models import Product, Sku

from .models import CustomerBinding, Distributor, ProgrammeSettings, binding_in_force


def distributor_for_user(*, merchant: Merchant, user: User) -> Distributor | None:
    if not user.is_authenticated:
        return None
    return Distributor.objects.filter(merchant=merchant, user=user).first()


def distributor_upline(*, distributor: Distributor) -> list[Distributor]:
    """The distributor's inviters, nearest first, at most three levels: one query along the parent
    keys (an interval scan for ancestors reads every node left of the distributor)."""
    if distributor.parent_id is None:
        return []
    parent = (
        Distributor.objects.select_related("user", "parent__user", "parent__parent__user")
        .filter(pk=distributor.parent_id)
        .first()
    )
    upline: list[Distributor] = []
    while parent is not None and len(upline) < 3:
        upline.append(parent)
        parent = parent.parent if parent.parent_id is not None else None
    return upline


def distributor_team(*, distributor: Distributor) -> dict[int, list[Distributor]]:
    """Downline levels 1–3 in one query: level → members (each annotated with ``direct_count``).

    Read over the (tree_id, level, lft) index: for each of the three levels, the nodes inside the
    distributor's interval, so a large team is not scanned below the third level."""
    members = (
        Distributor.objects.filter(
            tree_id=distributor.tree_id,
            level__in=[distributor.level + depth for depth in (1, 2, 3)],
            lft__gt=distributor.lft,
            lft__lt=distributor.rght,
        )
        .select_related("user")
        .annotate(direct_count=Count("children"))
        .order_by("level", "joined_at", "id")
    )
    team: dict[int, list[Distributor]] = {1: [], 2: [], 3: []}
    for member in members:
        team[member.level - distributor.level].append(member)
    return team


def distributor_team_size(*, distributor: Distributor) -> int:
    """Everyone below the distributor, all levels: a real count over the (tree_id, lft) index (the
    intervals have gaps, so mptt's ``get_descendant_count`` arithmetic does not apply)."""
    return Distributor.objects.filter(
        tree_id=distributor.tree_id, lft__gt=distributor.lft, lft__lt=distributor.rght
    ).count()


def binding_for_customer(
    *, merchant: Merchant, customer: User, now: datetime | None = None
) -> CustomerBinding | None:
    """The customer's binding in force at ``now`` (an expired one does not count), with its
    distributor."""
    return (
        CustomerBinding.objects.filter(merchant=merchant, customer=customer)
        .filter(binding_in_force(now or timezone.now()))
        .select_related("distributor")
        .first()
    )


def bound_customers(
    *, distributor: Distributor, now: datetime | None = None
) -> "QuerySet[CustomerBinding]":
    """The distributor's customers whose binding is in force, the most recently bound first."""
    return (
        CustomerBinding.objects.filter(merchant_id=distributor.merchant_id, distributor=distributor)
        .filter(binding_in_force(now or timezone.now()))
        .select_related("customer")
        .order_by("-bound_at", "-id")
    )


def products_to_share(*, merchant: Merchant) -> "QuerySet[Product]":
    """The store's products on sale (active, with an active SKU), in catalogue order."""
    on_sale_skus = Sku.objects.filter(product=OuterRef("pk"), is_active=True)
    return (
        Product.objects.filter(merchant=merchant, is_active=True)
        .filter(Exists(on_sale_skus))
        .order_by("sort_order", "id")
        .only("id", "name")
    )


def programme_settings_for(*, merchant: Merchant) -> ProgrammeSettings:
    """The merchant's programme settings, or the defaults (unsaved) when it has never set them."""
    found = ProgrammeSettings.objects.filter(merchant=merchant).first()
    return found if found is not None else ProgrammeSettings(merchant=merchant)


@dataclass(frozen=True)
class JoinContext:
    """What a join reads before it takes any lock (``distributor_join_context``)."""

    existing_id: int | None
    recruitment_mode: str
    inviter_id: int | None


def distributor_join_context(
    *, merchant: Merchant, user: User, invite_code: str | None
) -> JoinContext:
    """The user's profile in the store if it has one, the store's recruitment mode (the default
    when it never set one) and the active distributor with ``invite_code`` (already normalized),
    in one statement: a join runs this on every call, and three ORM queries cost it more Python
    time than the whole of its locked part (bench/README.md, distributor_tree)."""
    distributors = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT id FROM {distributors} WHERE merchant_id = %s AND user_id = %s),"
            f" (SELECT recruitment_mode FROM {ProgrammeSettings._meta.db_table}"
            "  WHERE merchant_id = %s),"
            f" (SELECT id FROM {distributors} WHERE merchant_id = %s AND invite_code = %s"
            "  AND status = %s)",
            [
                merchant.pk,
                user.pk,
                merchant.pk,
                merchant.pk,
                invite_code or "",
                Distributor.Status.ACTIVE,
            ],
        )
        existing_id, mode, inviter_id = cursor.fetchone()
    if mode is None:
        mode = ProgrammeSettings(merchant=merchant).recruitment_mode
    return JoinContext(existing_id, mode, inviter_id if invite_code else None)
