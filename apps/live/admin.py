"""Live rooms in the back office: schedule a room with its products and live-only prices, and run
it from the host console (start, end, pin, chat moderation, live figures)."""

from dataclasses import asdict

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from . import selectors, services
from .models import LivePrice, LiveRoom, LiveRoomProduct, LiveRoomStatusChange


class LiveRoomProductInline(MerchantScopedTabularInline):
    model = LiveRoomProduct
    extra = 1
    fields = ("product", "position")


class LivePriceInline(MerchantScopedTabularInline):
    model = LivePrice
    extra = 1
    fields = ("sku", "price")


class LiveRoomStatusChangeInline(MerchantScopedTabularInline):
    model = LiveRoomStatusChange
    extra = 0
    can_delete = False
    fields = ("from_status", "to_status", "actor", "reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(LiveRoom)
class LiveRoomAdmin(MerchantScopedAdmin):
    list_display = ("title", "status", "starts_at", "console_link")
    list_filter = ("status", "starts_at")
    search_fields = ("title",)
    fields = (
        "title",
        "description",
        "cover",
        "starts_at",
        "stream_url",
        "replay_url",
        "banned_words",
        "status",
        "started_at",
        "ended_at",
    )
    readonly_fields = ("status", "started_at", "ended_at")
    inlines = (LiveRoomProductInline, LivePriceInline, LiveRoomStatusChangeInline)

    @admin.display(description=gettext_lazy("console"))
    def console_link(self, obj: LiveRoom) -> str:
        url = reverse("admin:live_liveroom_console", args=[obj.pk])
        return format_html('<a href="{}" data-test="console-link">{}</a>', url, _("Open console"))

    def get_urls(self):  # type: ignore[no-untyped-def]
        def view(function):  # type: ignore[no-untyped-def]
            return self.admin_site.admin_view(function)

        return [
            path(
                "<path:object_id>/console/", view(self.console_view), name="live_liveroom_console"
            ),
            path(
                "<path:object_id>/console/figures/",
                view(self.figures_view),
                name="live_liveroom_figures",
            ),
            path(
                "<path:object_id>/console/<str:step>/",
                view(require_POST(self.step_view)),
                name="live_liveroom_step",
            ),
            *super().get_urls(),
        ]

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        """Live-only prices keep the SKU's price rules and belong to a product in the room (the
        products inline is saved before this one)."""
        if formset.model is LivePrice:
            for price_form in formset.forms:
                data = getattr(price_form, "cleaned_data", None) or {}
                if data.get("DELETE") or not data.get("sku") or not price_form.has_changed():
                    continue
                services.live_price_check(room=form.instance, sku=data["sku"], price=data["price"])
        super().save_formset(request, form, formset, change)

    def _room(self, request: HttpRequest, object_id: str) -> LiveRoom:
        room = self.get_object(request, unquote(object_id))
        assert room is not None  # get_object answers 404 for an absent or another merchant's id
        return room

    def console_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        room = self._room(request, object_id)
        prices = selectors.live_prices(room=room)
        products = [
            selectors.room_product_payload(
                room_product=room_product, prices=prices, store_slug=room.merchant.slug
            )
            for room_product in selectors.room_products(room=room)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Host console: %(title)s") % {"title": room.title},
            "opts": self.opts,
            "room": room,
            "products": products,
            "figures": selectors.room_figures(room=room),
            "mutes": selectors.mutes_for(room=room),
            "Status": LiveRoom.Status,
            "socket_path": f"/ws/s/{room.merchant.slug}/live/{room.pk}/",
            "room_url": f"/s/{room.merchant.slug}/live/{room.pk}/",
        }
        return TemplateResponse(request, "admin/live/liveroom/console.html", context)

    def figures_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        room = self._room(request, object_id)
        figures = selectors.room_figures(room=room)
        data = asdict(figures)
        data["paid_amount"] = str(figures.paid_amount)
        data["conversion_percent"] = str(figures.conversion_percent)
        for row in data["by_distributor"]:
            row["paid_amount"] = str(row["paid_amount"])
        return JsonResponse(data)

    def step_view(self, request: HttpRequest, object_id: str, step: str):  # type: ignore[no-untyped-def]
        room = self._room(request, object_id)
        if not self.has_change_permission(request, room):
            raise PermissionDenied
        actor = request.user
        assert isinstance(actor, User)  # the admin only lets signed-in staff this far
        actions = {
            "start": lambda: services.room_start(room=room, actor=actor),
            "end": lambda: services.room_end(room=room, actor=actor),
            "unpin": lambda: services.room_unpin(room=room, actor=actor),
            "pin": lambda: services.room_pin(
                room=room, product_id=_int(request.POST.get("product_id")), actor=actor
            ),
            "unmute": lambda: services.user_unmute(
                room=room, user_id=_int(request.POST.get("user_id")), actor=actor
            ),
        }
        action = actions.get(step)
        if action is None:
            messages.error(request, _("Unknown console action."))
        else:
            try:
                action()
            except DomainError as error:
                messages.error(request, error.message)
        return redirect(reverse("admin:live_liveroom_console", args=[room.pk]))


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise DomainError(_("Choose an item first."), code="invalid") from None
