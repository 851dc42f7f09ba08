"""The live room pages (商城直播): the list of a store's rooms, the room (player, chat, pinned
product) and buying from it. The real-time part is the room's WebSocket (apps/live/consumers.py)."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError
from apps.live import selectors as live_selectors
from apps.live.models import LiveRoom
from apps.live.services import live_order_place
from apps.merchants.models import Merchant
from apps.orders.services import Recipient

from .forms import CheckoutForm, LiveBuyForm
from .views import SignedInRequest, _shown_total, render_store, store_view


def _room(merchant: Merchant, room_id: int) -> LiveRoom:
    room = live_selectors.room_for_store(merchant=merchant, room_id=room_id)
    if room is None:
        raise Http404(_("No such live room."))
    return room


@require_GET
@store_view
def room_list(request: HttpRequest, merchant: Merchant) -> HttpResponse:
    rooms = list(live_selectors.rooms_for_store(merchant=merchant)[:50])
    return render_store(request, merchant, "storefront/live/rooms.html", {"rooms": rooms})


@require_GET
@store_view
def room_detail(request: HttpRequest, merchant: Merchant, room_id: int) -> HttpResponse:
    room = _room(merchant, room_id)
    prices = live_selectors.live_prices_in_force(room=room)
    products = [
        live_selectors.room_product_payload(
            room_product=room_product, prices=prices, store_slug=merchant.slug
        )
        for room_product in live_selectors.room_products(room=room)
    ]
    user = request.user
    form = CheckoutForm(
        initial={
            "recipient_name": user.get_full_name() if user.is_authenticated else "",
            "recipient_phone": getattr(user, "phone", "") if user.is_authenticated else "",
        }
    )
    return render_store(
        request,
        merchant,
        "storefront/live/room.html",
        {
            "room": room,
            "products": products,
            "Status": LiveRoom.Status,
            "form": form,
            "socket_path": f"/ws/s/{merchant.slug}/live/{room.pk}/",
            "is_flv": room.stream_url.split("?")[0].lower().endswith(".flv"),
        },
    )


@require_POST
@store_view
def room_buy(request: HttpRequest, merchant: Merchant, room_id: int) -> HttpResponse:
    room = _room(merchant, room_id)
    if not request.user.is_authenticated:
        return redirect_to_login(f"/s/{merchant.slug}/live/{room.pk}/")
    signed_in: SignedInRequest = request  # type: ignore[assignment]
    form = LiveBuyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                # Iterating an ErrorList yields the messages; the stubs say ValidationError.
                messages.error(request, cast("str", error))
        return redirect("storefront:live-room", slug=merchant.slug, room_id=room.pk)
    data = form.cleaned_data
    try:
        order = live_order_place(
            merchant=merchant,
            room_id=room.pk,
            customer=signed_in.user,
            lines=[(data["sku"], data["quantity"])],
            recipient=Recipient(
                name=data["recipient_name"],
                phone=data["recipient_phone"],
                address=data["shipping_address"],
            ),
            note=data["note"],
            expected_total=_shown_total(request.POST.get("expected_total")),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("storefront:live-room", slug=merchant.slug, room_id=room.pk)
    return redirect("storefront:order", slug=merchant.slug, order_id=order.pk)
