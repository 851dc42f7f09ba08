"""Orders in the back office: read-only money and history; shipping and cancelling go through the
order services (the state machine), never through a hand-edited status."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.personal import phone_index, phone_mask
from apps.merchants.selectors import staff_may_see_phones
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import RECIPIENT_PHONE, Order, OrderLine, OrderLineAdjustment, OrderStatusChange
from .services import order_cancel, order_ship


class OrderLineInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = OrderLine
    fields = (
        "product_name",
        "sku_name",
        "unit_price",
        "quantity",
        "discount_amount",
        "paid_amount",
        "flash_sale",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


class OrderLineAdjustmentInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    """The price breakdown: what each step of the pricing pipeline took off each line."""

    model = OrderLineAdjustment
    fields = ("line", "step", "label", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("line")


class OrderStatusChangeInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = OrderStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("status history")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("actor")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Orders come from customers; their money, snapshot and status are never edited by hand:
    staff act on them through the ship and cancel actions, which call the services."""

    list_display = (
        "number",
        "customer",
        "recipient_name",
        "phone_masked",
        "status",
        "payable_amount",
        "commission_status",
        "created_at",
    )
    list_filter = ("status", "commission_status", "created_at")
    # The recipient's name and phone are encrypted: a phone is found by its blind index (exact).
    search_fields = ("number", "customer__username")
    list_select_related = ("customer",)

    def get_list_display(self, request):  # type: ignore[no-untyped-def]
        """Owners and the operator see phones; other staff see them masked."""
        shown = super().get_list_display(request)
        if not staff_may_see_phones(request.user):
            return shown
        return tuple("phone_full" if name == "phone_masked" else name for name in shown)

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        """The order page too: the recipient's phone masked for staff who may not see it."""
        fieldsets = super().get_fieldsets(request, obj)
        if staff_may_see_phones(request.user):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "phone_masked" if field == "recipient_phone" else field
                        for field in options["fields"]
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return (*super().get_readonly_fields(request, obj), "phone_masked")

    @admin.display(description=gettext_lazy("phone"))
    def phone_full(self, order: Order) -> str:
        return order.recipient_phone

    @admin.display(description=gettext_lazy("phone"))
    def phone_masked(self, order: Order) -> str:
        return phone_mask(order.recipient_phone)

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        results, duplicates = super().get_search_results(request, queryset, search_term)
        index = phone_index(search_term, purpose=RECIPIENT_PHONE)
        if index:
            results |= queryset.filter(recipient_phone_index=index)
        return results, duplicates

    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("number", "customer", "status", "commission_status", "note")}),
        (
            gettext_lazy("Amounts"),
            {
                "fields": (
                    "goods_amount",
                    "discount_amount",
                    "shipping_amount",
                    "payable_amount",
                    "price_channel",
                ),
            },
        ),
        (
            gettext_lazy("Recipient"),
            {
                "fields": ("recipient_name", "recipient_phone", "shipping_address"),
            },
        ),
        (gettext_lazy("Shipping"), {"fields": ("shipping_carrier", "tracking_number")}),
        (
            gettext_lazy("Distribution snapshot (who earns commission)"),
            {
                "fields": ("distributor", "level2_distributor", "level3_distributor"),
            },
        ),
        (
            gettext_lazy("Dates"),
            {
                "fields": (
                    "created_at",
                    "expires_at",
                    "paid_at",
                    "shipped_at",
                    "completed_at",
                    "cancelled_at",
                ),
            },
        ),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = (OrderLineInline, OrderLineAdjustmentInline, OrderStatusChangeInline)
    actions = ("ship_orders", "cancel_unpaid_orders")

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="orders_order_ship",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        original = context.get("original")
        context["can_ship"] = original is not None and original.status == Order.Status.PAID
        return super().render_change_form(request, context, *args, **kwargs)

    def ship_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        order = self.get_object(request, unquote(object_id))
        if request.method == "POST":
            self._ship(request, [order])
            return redirect(reverse("admin:orders_order_change", args=[order.pk]))
        return self._render_ship(request, [order], action=None)

    def _render_ship(self, request, orders, action):  # type: ignore[no-untyped-def]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ship orders"),
            "opts": self.opts,
            "orders": orders,
            "paid_status": Order.Status.PAID,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/ship.html", context)

    def _ship(self, request: HttpRequest, orders: list[Order]) -> int:
        """Ship each order on its own: one failure is reported and changes nothing of that order,
        and does not undo the others."""
        shipped = 0
        for order in orders:
            if order.status != Order.Status.PAID:
                self.message_user(
                    request,
                    f"{order.number}: " + _("Only a paid order can be shipped."),
                    messages.ERROR,
                )
                continue
            merchant = order.merchant if request.user.is_superuser else request_merchant(request)
            try:
                with transaction.atomic():
                    order_ship(
                        merchant=merchant,  # type: ignore[arg-type]
                        order_id=order.pk,
                        carrier=request.POST.get(f"carrier-{order.pk}", ""),
                        tracking_number=request.POST.get(f"tracking-{order.pk}", ""),
                        actor=request.user,  # type: ignore[arg-type]
                    )
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.message}", messages.ERROR)
            else:
                shipped += 1
        if shipped:
            self.message_user(
                request, _("%(count)d order(s) shipped.") % {"count": shipped}, messages.SUCCESS
            )
        return shipped

    @admin.action(description=gettext_lazy("Ship selected orders…"))
    def ship_orders(self, request, queryset):  # type: ignore[no-untyped-def]
        orders = list(queryset.select_related("merchant").order_by("pk"))
        if "post" in request.POST:
            self._ship(request, orders)
            return None
        return self._render_ship(request, orders, action="ship_orders")

    @admin.action(description=gettext_lazy("Cancel selected unpaid orders"))
    def cancel_unpaid_orders(self, request, queryset):  # type: ignore[no-untyped-def]
        cancelled = 0
        for order in queryset.order_by("pk"):
            try:
                done = order_cancel(
                    order=order, actor=request.user, reason=_("Cancelled in the back office.")
                )
            except DomainError as error:
                self.message_user(request, f"{order.number}: {error.message}", messages.ERROR)
                continue
            if done:
                cancelled += 1
            else:
                self.message_user(
                    request,
                    f"{order.number}: " + _("This order changed meanwhile; reload it."),
                    messages.ERROR,
                )
        if cancelled:
            self.message_user(
                request, _("%(count)d order(s) cancelled.") % {"count": cancelled}, messages.SUCCESS
            )
