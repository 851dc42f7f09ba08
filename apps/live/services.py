"""Writes of the live app: a room's life (start, end), pins, chat and its moderation, live-only
prices, and an order placed from a room.

Every change a viewer must see is broadcast to the room once it commits (``broadcast.py``).
"""

from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.state import transition
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import Discounts, Recipient, order_place
from apps.products.models import Product, Sku

from . import presence, selectors
from .broadcast import room_broadcast
from .models import (
    LiveChatMessage,
    LiveMute,
    LivePrice,
    LiveRoom,
    LiveRoomProduct,
    LiveRoomStatusChange,
)

# --- The room's life ------------------------------------------------------------------------


def _room_transition(*, room: LiveRoom, new: str, actor: User | None, **updates) -> LiveRoom:
    with transaction.atomic():
        if not transition(
            room,
            new,
            transitions=LiveRoom.TRANSITIONS,
            history=LiveRoomStatusChange,
            history_field="room",
            actor=actor,
            **updates,
        ):
            raise Conflict(_("This room changed meanwhile; reload it."), code="invalid_transition")
        room_broadcast(room.pk, selectors.status_payload(room))
    return room


def room_start(*, room: LiveRoom, actor: User | None) -> LiveRoom:
    """Go live: the player starts and live-only prices apply from now."""
    return _room_transition(
        room=room, new=LiveRoom.Status.LIVE, actor=actor, started_at=timezone.now()
    )


def room_end(*, room: LiveRoom, actor: User | None) -> LiveRoom:
    """End the room: live-only prices stop at once (an order placed from the room after this, at
    the price it showed, is refused as ``prices_changed``) and the page offers the replay.

    Takes the room row's lock, so it waits for orders being placed from the room (they hold it in
    share mode) and no order commits at a live price after the room ended."""
    with transaction.atomic():
        locked = LiveRoom.objects.select_for_update().get(pk=room.pk)
        return _room_transition(
            room=locked,
            new=LiveRoom.Status.ENDED,
            actor=actor,
            ended_at=timezone.now(),
            pinned=None,
            pinned_at=None,
        )


# --- Pins --------------------------------------------------------------------------------------


def room_pin(*, room: LiveRoom, product_id: int, actor: User | None) -> LiveRoomProduct:
    """Pin one of the room's products: every viewer sees it pop up."""
    if room.status == LiveRoom.Status.ENDED:
        raise Conflict(_("This room has ended."), code="room_ended")
    room_product = (
        LiveRoomProduct.objects.filter(room=room, product_id=product_id)
        .select_related("product")
        .first()
    )
    if room_product is None:
        raise NotFound(_("This product is not in the room."), code="unknown_product")
    with transaction.atomic():
        LiveRoom.objects.filter(pk=room.pk).update(pinned=room_product, pinned_at=timezone.now())
        room.pinned = room_product
        room_broadcast(
            room.pk,
            {
                "type": "pinned",
                "product": selectors.room_product_payload(
                    room_product=room_product,
                    prices=selectors.live_prices_in_force(room=room),
                    store_slug=room.merchant.slug,
                ),
            },
        )
    return room_product


def room_unpin(*, room: LiveRoom, actor: User | None) -> None:
    with transaction.atomic():
        LiveRoom.objects.filter(pk=room.pk).update(pinned=None, pinned_at=None)
        room.pinned = None
        room_broadcast(room.pk, {"type": "unpinned"})


# --- Chat and moderation ------------------------------------------------------------------------


def chat_post(*, room: LiveRoom, user: User, text: str) -> LiveChatMessage:
    """A viewer's chat message: signed in, not muted, within the length, the rate limit and the
    merchant's word filter; broadcast to the room."""
    if not user.is_authenticated:
        raise DomainError(_("Sign in to chat."), code="sign_in_required", status=403)
    if room.status == LiveRoom.Status.ENDED:
        raise Conflict(_("This room has ended."), code="room_ended")
    text = " ".join(str(text).split())
    if not text:
        raise DomainError(_("Write something first."), code="empty_message")
    if len(text) > settings.FENXIAO_LIVE_CHAT_MAX_LENGTH:
        raise DomainError(
            _("A message has at most %(max)d characters.")
            % {"max": settings.FENXIAO_LIVE_CHAT_MAX_LENGTH},
            code="message_too_long",
        )
    if selectors.user_is_muted(room_id=room.pk, user_id=user.pk):
        raise DomainError(_("You have been muted in this room."), code="muted", status=403)
    lowered = text.lower()
    if any(word in lowered for word in room.banned_word_list):
        raise DomainError(_("Your message contains a word not allowed here."), code="banned_word")
    if not presence.chat_allowed(room_id=room.pk, user_id=user.pk):
        raise DomainError(
            _("You are sending messages too fast; wait a moment."),
            code="rate_limited",
            status=429,
        )
    with transaction.atomic():
        message = LiveChatMessage.objects.create(
            merchant_id=room.merchant_id, room=room, user=user, text=text
        )
        room_broadcast(room.pk, selectors.chat_payload(message, user))
    return message


def chat_delete(*, room: LiveRoom, message_id: int, actor: User) -> LiveChatMessage:
    """Staff delete a message: it disappears from every viewer's chat."""
    message = LiveChatMessage.objects.filter(room=room, pk=message_id).first()
    if message is None:
        raise NotFound(_("No such message."), code="unknown_message")
    with transaction.atomic():
        updated = LiveChatMessage.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=actor
        )
        if updated:
            room_broadcast(room.pk, {"type": "chat_deleted", "id": message.pk})
    return message


def user_mute(*, room: LiveRoom, user_id: int, actor: User) -> LiveMute:
    """Staff mute a user in the room: their next messages are refused."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such user."), code="unknown_user")
    with transaction.atomic():
        mute, _created = LiveMute.objects.get_or_create(
            room=room, user=user, defaults={"merchant_id": room.merchant_id, "muted_by": actor}
        )
        room_broadcast(room.pk, {"type": "muted", "user_id": user.pk})
    return mute


def user_unmute(*, room: LiveRoom, user_id: int, actor: User) -> None:
    with transaction.atomic():
        LiveMute.objects.filter(room=room, user_id=user_id).delete()
        room_broadcast(room.pk, {"type": "unmuted", "user_id": user_id})


def likes_add(*, room: LiveRoom, user: User, count: int) -> int:
    """A viewer's taps since their last like message (the page sends at most one a second)."""
    if not user.is_authenticated:
        raise DomainError(_("Sign in to like."), code="sign_in_required", status=403)
    return presence.likes_add(room_id=room.pk, count=count)


# --- Live-only prices ----------------------------------------------------------------------------


def live_price_check(*, room: LiveRoom, sku: Sku, price: Decimal | None) -> None:
    """A live-only price belongs to a SKU of a product in the room and keeps the SKU's price rules:
    positive, not below its resale floor nor above its ceiling."""
    if sku.merchant_id != room.merchant_id:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    if not LiveRoomProduct.objects.filter(room=room, product_id=sku.product_id).exists():
        raise DomainError(
            _("Add “%(product)s” to the room before giving it a live price.")
            % {"product": sku.product},
            code="not_in_room",
        )
    if price is None or price <= 0:
        raise DomainError(_("A live price must be more than 0."), code="invalid_price")
    if sku.min_resale_price is not None and price < sku.min_resale_price:
        raise DomainError(
            _("The live price may not be below the floor of ¥%(floor)s.")
            % {"floor": sku.min_resale_price},
            code="below_floor",
        )
    if sku.max_resale_price is not None and price > sku.max_resale_price:
        raise DomainError(
            _("The live price may not be above the ceiling of ¥%(ceiling)s.")
            % {"ceiling": sku.max_resale_price},
            code="above_ceiling",
        )


def room_product_add(*, room: LiveRoom, product_id: int, position: int = 0) -> LiveRoomProduct:
    """Show one of the merchant's products in the room (again: its position changes)."""
    product = Product.objects.filter(merchant_id=room.merchant_id, pk=product_id).first()
    if product is None:
        raise NotFound(_("This item does not exist."), code="unknown_product")
    room_product, _created = LiveRoomProduct.objects.update_or_create(
        room=room,
        product=product,
        defaults={"merchant_id": room.merchant_id, "position": position},
    )
    return room_product


def live_price_set(*, room: LiveRoom, sku_id: int, price: Decimal) -> LivePrice:
    """Give a SKU of the room its live-only price (checked by ``live_price_check``)."""
    sku = Sku.objects.filter(merchant_id=room.merchant_id, pk=sku_id).first()
    if sku is None:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    live_price_check(room=room, sku=sku, price=price)
    live_price, _created = LivePrice.objects.update_or_create(
        room=room, sku=sku, defaults={"merchant_id": room.merchant_id, "price": price}
    )
    return live_price


# --- Orders from a room ----------------------------------------------------------------------------


def _room_status_shared(room_id: int) -> str | None:
    """The room's status, read with the row held in share mode until the transaction ends: many
    orders go through at once, and ``room_end`` (which takes the row exclusively) waits for them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status FROM {LiveRoom._meta.db_table} WHERE id = %s FOR SHARE",  # noqa: S608
            [room_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def live_order_place(
    *,
    merchant: Merchant,
    room_id: int,
    customer: User,
    lines: list[tuple[int, int]],
    recipient: Recipient,
    note: str = "",
    expected_total: Decimal | None = None,
) -> Order:
    """Place an order from a live room: recorded on the order (its figures, and the distributor
    who shared the room through the usual binding), at the room's live-only prices while the room
    is live. After it has ended the same lines cost their regular price, so an order at the total
    the viewer saw during the live is refused as ``prices_changed``.
    """
    room = LiveRoom.objects.filter(merchant=merchant, pk=room_id).first()
    if room is None:
        raise NotFound(_("No such live room."), code="unknown_room")
    in_room = set(selectors.skus_in_room(room=room).values_list("id", flat=True))
    if not lines or any(sku_id not in in_room for sku_id, _quantity in lines):
        raise NotFound(_("This item is not sold in this room."), code="unknown_sku")
    with transaction.atomic():
        status = _room_status_shared(room.pk)
        prices = selectors.live_prices(room=room) if status == LiveRoom.Status.LIVE else {}
        # The live prices are an input of the one pricing pipeline (its promotion step, against
        # the floor read under each SKU's lock): the line keeps the store price as its base and
        # the order's breakdown shows what the live price took off.
        return order_place(
            merchant=merchant,
            customer=customer,
            lines=lines,
            recipient=recipient,
            note=note,
            expected_total=expected_total,
            live_room_id=room.pk,
            discounts=Discounts(
                channel_prices={sku_id: prices[sku_id] for sku_id, _q in lines if sku_id in prices},
                channel_label=live_price_label(room),
            ),
        )


def live_price_label(room: LiveRoom) -> str:
    """What an order's breakdown calls a room's live price (and its ``price_channel``)."""
    return (_("Live price · %(title)s") % {"title": room.title})[:64]


def purchase_announce(*, order_id: int) -> None:
    """ "X just bought": a paid order placed from a room is announced to the room (names masked)."""
    order = (
        Order.objects.filter(pk=order_id, live_room__isnull=False)
        .select_related("customer")
        .first()
    )
    if order is None:
        return
    line = order.lines.order_by("id").first()
    room_broadcast(
        order.live_room_id,  # type: ignore[arg-type]
        {
            "type": "purchase",
            "name": selectors.display_name(order.customer),
            "product": line.product_name if line else "",
            "quantity": line.quantity if line else 0,
        },
    )
