"""Reads of the live app: a room for a store or its staff, what a socket is told, the figures."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.core.money import ZERO
from apps.merchants.models import Merchant
from apps.merchants.selectors import merchant_for_staff
from apps.orders.models import Order
from apps.products.models import Sku
from apps.programme.leaderboards import mask_name

from . import presence
from .models import LiveChatMessage, LiveMute, LivePrice, LiveRoom, LiveRoomProduct

RECENT_CHAT = 30


def rooms_for_store(*, merchant: Merchant) -> "QuerySet[LiveRoom]":
    return LiveRoom.objects.filter(merchant=merchant).select_related("pinned__product")


def room_for_store(*, merchant: Merchant, room_id: int) -> LiveRoom | None:
    return rooms_for_store(merchant=merchant).filter(pk=room_id).first()


def user_is_host(*, room: LiveRoom, user: Any) -> bool:
    """The room's merchant's staff (or the platform operator) hosts it; nobody else does."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    staff_of = merchant_for_staff(user)
    return staff_of is not None and staff_of.pk == room.merchant_id


def user_is_muted(*, room_id: int, user_id: int) -> bool:
    return LiveMute.objects.filter(room_id=room_id, user_id=user_id).exists()


def display_name(user: User) -> str:
    return mask_name(user.display_name)


def live_prices(*, room: LiveRoom) -> dict[int, Decimal]:
    """SKU id → live-only price of the room (whatever its status)."""
    return dict(LivePrice.objects.filter(room=room).values_list("sku_id", "price"))


def live_prices_in_force(*, room: LiveRoom) -> dict[int, Decimal]:
    """The room's live-only prices while it is live; none before or after."""
    return live_prices(room=room) if room.status == LiveRoom.Status.LIVE else {}


def room_product_payload(
    *, room_product: LiveRoomProduct, prices: dict[int, Decimal], store_slug: str
) -> dict[str, Any]:
    product = room_product.product
    skus = [
        {
            "id": sku.pk,
            "name": sku.name,
            "price": str(sku.price),
            "live_price": str(prices[sku.pk]) if sku.pk in prices else None,
            "stock": sku.stock,
        }
        for sku in product.skus.all()
        if sku.is_active
    ]
    return {
        "id": product.pk,
        "name": product.name,
        "image": product.image.url if product.image else "",
        "url": f"/s/{store_slug}/p/{product.pk}/",
        "skus": skus,
    }


def room_products(*, room: LiveRoom) -> list[LiveRoomProduct]:
    return list(
        LiveRoomProduct.objects.filter(room=room)
        .select_related("product")
        .prefetch_related("product__skus")
    )


def pinned_payload(*, room: LiveRoom) -> dict[str, Any] | None:
    if room.pinned_id is None:
        return None
    pinned = next((p for p in room_products(room=room) if p.pk == room.pinned_id), None)
    if pinned is None:
        return None
    return room_product_payload(
        room_product=pinned, prices=live_prices_in_force(room=room), store_slug=room.merchant.slug
    )


def chat_payload(message: LiveChatMessage, user: User | None = None) -> dict[str, Any]:
    author = user or message.user
    return {
        "type": "chat",
        "id": message.pk,
        "user_id": author.pk,
        "name": display_name(author),
        "text": message.text,
        "at": message.created_at.isoformat(),
    }


def recent_chat(*, room_id: int) -> list[dict[str, Any]]:
    messages = list(
        LiveChatMessage.objects.filter(room_id=room_id, deleted_at__isnull=True)
        .select_related("user")
        .order_by("-id")[:RECENT_CHAT]
    )
    return [chat_payload(message) for message in reversed(messages)]


def status_payload(room: LiveRoom) -> dict[str, Any]:
    return {
        "type": "status",
        "status": room.status,
        "starts_at": room.starts_at.isoformat(),
        "replay_url": room.replay_url if room.status == LiveRoom.Status.ENDED else "",
    }


def stats_payload(room_id: int) -> dict[str, Any]:
    stats = presence.room_stats(room_id)
    return {"type": "stats", "viewers": stats.viewers, "peak": stats.peak, "likes": stats.likes}


@dataclass(frozen=True)
class DistributorFigures:
    distributor_id: int | None
    name: str
    orders: int
    paid_amount: Decimal


@dataclass(frozen=True)
class RoomFigures:
    viewers: int
    peak: int
    unique_viewers: int
    likes: int
    orders: int
    buyers: int
    paid_amount: Decimal
    conversion_percent: Decimal
    by_distributor: list[DistributorFigures]


def room_figures(*, room: LiveRoom) -> RoomFigures:
    """Viewers (now, peak, unique), likes, and the paid orders placed from the room: count,
    buyers, amount, conversion (buyers / unique viewers) and the split by the order's
    distributor (the one whose link bound the buyer, per the binding rules)."""
    stats = presence.room_stats(room.pk)
    paid = Order.objects.filter(merchant_id=room.merchant_id, live_room=room, paid_at__isnull=False)
    totals = paid.aggregate(
        orders=Count("id"), buyers=Count("customer_id", distinct=True), amount=Sum("payable_amount")
    )
    rows = (
        paid.values("distributor_id", "distributor__user__username", "distributor__user__nickname")
        .annotate(orders=Count("id"), amount=Sum("payable_amount"))
        .order_by("-amount", "distributor_id")
    )
    by_distributor = [
        DistributorFigures(
            distributor_id=row["distributor_id"],
            name=(row["distributor__user__nickname"] or row["distributor__user__username"] or ""),
            orders=row["orders"],
            paid_amount=row["amount"] or ZERO,
        )
        for row in rows
    ]
    buyers = totals["buyers"] or 0
    conversion = (
        (Decimal(buyers) * 100 / stats.unique_viewers).quantize(Decimal("0.1"))
        if stats.unique_viewers
        else Decimal("0.0")
    )
    return RoomFigures(
        viewers=stats.viewers,
        peak=stats.peak,
        unique_viewers=stats.unique_viewers,
        likes=stats.likes,
        orders=totals["orders"] or 0,
        buyers=buyers,
        paid_amount=totals["amount"] or ZERO,
        conversion_percent=conversion,
        by_distributor=by_distributor,
    )


def room_countdown_seconds(room: LiveRoom) -> int:
    if room.status != LiveRoom.Status.SCHEDULED:
        return 0
    return max(0, int((room.starts_at - timezone.now()).total_seconds()))


def skus_in_room(*, room: LiveRoom) -> "QuerySet[Sku]":
    return Sku.objects.filter(
        merchant_id=room.merchant_id,
        product_id__in=LiveRoomProduct.objects.filter(room=room).values("product_id"),
    )


def mutes_for(*, room: LiveRoom) -> "QuerySet[LiveMute]":
    return LiveMute.objects.filter(room=room).select_related("user")


def rooms_live_now() -> "QuerySet[LiveRoom]":
    return LiveRoom.objects.filter(status=LiveRoom.Status.LIVE)
