"""Drop-shipping in the back offices: merchants browse the supply catalogue and pick from it, and
see their orders' parcels (shipping their own); suppliers ship their parcels."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.personal import phone_mask
from apps.merchants.selectors import staff_may_see_phones
from apps.suppliers.scoping import SupplierScopedAdmin, request_supplier
from apps.suppliers.selectors import supply_catalogue, supply_skus_on_sale
from apps.tenancy.admin import MerchantScopedAdmin, request_merchant

from .models import CatalogueProduct, Shipment, SupplierPayable, SupplierShipment
from .selectors import order_margins, owed_to_suppliers, owed_total
from .services import shipment_ship, supply_floors, supply_pick


class ShipForm(forms.Form):
    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=64)
    tracking_number = forms.CharField(label=gettext_lazy("Tracking number"), max_length=64)


def _ship_view(model_admin, request, shipment, change_url):  # type: ignore[no-untyped-def]
    form = ShipForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            shipment_ship(
                shipment=shipment,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                actor=request.user,
            )
        except DomainError as error:
            model_admin.message_user(request, error.message, messages.ERROR)
        else:
            model_admin.message_user(request, _("Parcel shipped."), messages.SUCCESS)
        return redirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Ship the parcel"),
        "opts": model_admin.opts,
        "shipment": shipment,
        "lines": shipment.lines.select_related("order_line"),
        "form": form,
    }
    return TemplateResponse(request, "admin/dropship/ship.html", context)


@admin.register(CatalogueProduct)
class CatalogueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The supply catalogue for merchant staff: every listed product of every active supplier
    (suppliers' public terms only), and a Pick page that puts one into the store at the store's
    own prices. Suppliers see nothing here."""

    list_display = ("name", "supplier_name", "price_range", "shipping_template", "dispatch_days")
    search_fields = ("name", "supplier__name")
    list_select_related = ("supplier",)
    fields = (
        "name",
        "supplier_name",
        "description",
        "shipping_template",
        "dispatch_days",
        "after_sale_terms",
        "sku_terms",
    )
    readonly_fields = fields

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return supply_catalogue().select_related("supplier").order_by("id")

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or request_merchant(request) is not None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request)

    def get_object(self, request, object_id, from_field=None):  # type: ignore[no-untyped-def]
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object."))
        return obj

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):  # type: ignore[no-untyped-def]
        raise Http404(_("No such object."))

    @admin.display(description=gettext_lazy("supplier"))
    def supplier_name(self, obj: CatalogueProduct) -> str:
        return obj.supplier.name

    @admin.display(description=gettext_lazy("supply price"))
    def price_range(self, obj: CatalogueProduct) -> str:
        prices = sorted(sku.supply_price for sku in obj.skus.all() if sku.is_active)
        if not prices:
            return "—"
        return f"¥{prices[0]}" if prices[0] == prices[-1] else f"¥{prices[0]}–{prices[-1]}"

    @admin.display(description=gettext_lazy("SKUs"))
    def sku_terms(self, obj: CatalogueProduct) -> str:
        return format_html_join(
            "",
            "<p>{} ({}): {} ¥{} · {} ¥{} · {} ¥{} · {} {}</p>",
            (
                (
                    sku.name,
                    sku.code,
                    _("supply"),
                    sku.supply_price,
                    _("minimum retail"),
                    sku.min_retail_price,
                    _("suggested"),
                    sku.suggested_retail_price,
                    _("stock"),
                    sku.stock,
                )
                for sku in supply_skus_on_sale().filter(product=obj).order_by("id")
            ),
        )

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/pick/",
                self.admin_site.admin_view(self.pick_view),
                name="dropship_catalogueproduct_pick",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        context["can_pick"] = request_merchant(request) is not None
        return super().render_change_form(request, context, *args, **kwargs)

    def pick_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        merchant = request_merchant(request)
        if merchant is None:
            raise PermissionDenied
        product = self.get_object(request, unquote(object_id))
        skus = list(supply_skus_on_sale().filter(product=product).order_by("id"))
        try:
            floors = supply_floors(merchant=merchant, skus=skus)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(reverse("admin:dropship_catalogueproduct_change", args=[product.pk]))
        form = forms.Form(request.POST if request.method == "POST" else None)
        for sku in skus:
            form.fields[f"price-{sku.pk}"] = forms.CharField(
                label=f"{sku.name} ({sku.code})",
                required=False,
                initial=sku.suggested_retail_price,
                help_text=_("Your retail price; at least ¥%(floor)s. Empty: leave it out.")
                % {"floor": floors[sku.pk]},
            )
        if request.method == "POST" and form.is_valid():
            prices = {
                sku.pk: form.cleaned_data[f"price-{sku.pk}"].strip()
                for sku in skus
                if form.cleaned_data[f"price-{sku.pk}"].strip()
            }
            try:
                picked = supply_pick(merchant=merchant, supply_product_id=product.pk, prices=prices)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("“%(name)s” is in your store, sold from the supplier's stock.")
                    % {"name": picked.name},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:products_product_change", args=[picked.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Pick “%(name)s” into your store") % {"name": product.name},
            "opts": self.opts,
            "product": product,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/dropship/pick.html", context, status=400 if form.errors else 200
        )


class _ShipmentDisplay:
    @admin.display(description=gettext_lazy("order"))
    def order_number(self, obj: Shipment) -> str:
        return obj.order.number

    @admin.display(description=gettext_lazy("recipient"))
    def recipient(self, obj: Shipment) -> str:
        order = obj.order
        return f"{order.recipient_name} · {order.recipient_phone} · {order.shipping_address}"

    @admin.display(description=gettext_lazy("recipient"))
    def recipient_masked(self, obj: Shipment) -> str:
        order = obj.order
        return f"{order.recipient_name} · {phone_mask(order.recipient_phone)} · {order.shipping_address}"

    @admin.display(description=gettext_lazy("items"))
    def items(self, obj: Shipment) -> str:
        return format_html_join(
            "",
            "<p>{} / {} × {}</p>",
            (
                (line.order_line.product_name, line.order_line.sku_name, line.order_line.quantity)
                for line in obj.lines.all()
            ),
        )


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, _ShipmentDisplay, MerchantScopedAdmin):
    """The store's view of its orders' parcels; it ships its own (the suppliers ship theirs)."""

    list_display = (
        "order_number",
        "supplier",
        "status",
        "carrier",
        "tracking_number",
        "shipped_at",
    )
    list_filter = ("status",)
    search_fields = ("order__number", "tracking_number")
    list_select_related = ("order", "supplier")
    fields = (
        "order_number",
        "supplier",
        "status",
        "recipient",
        "items",
        "carrier",
        "tracking_number",
        "shipped_at",
    )
    readonly_fields = (*fields, "recipient_masked")

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        """The recipient's phone masked for staff who may not see it (the supplier, who ships
        the parcel, sees it)."""
        fields = super().get_fields(request, obj)
        if staff_may_see_phones(request.user):
            return fields
        return ["recipient_masked" if name == "recipient" else name for name in fields]

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.prefetch_related("lines__order_line")

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "margins/",
                self.admin_site.admin_view(self.margins_view),
                name="dropship_shipment_margins",
            ),
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="dropship_shipment_ship",
            ),
            *super().get_urls(),
        ]

    def margins_view(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        """Per paid order: revenue, supply cost, commission, platform fee and margin."""
        merchant = request_merchant(request)
        if merchant is None:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Order margins"),
            "opts": self.opts,
            "margins": order_margins(merchant=merchant),
        }
        return TemplateResponse(request, "admin/dropship/margins.html", context)

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        original = context.get("original")
        context["can_ship"] = (
            original is not None
            and original.supplier_id is None
            and original.status == Shipment.Status.PENDING
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def ship_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        shipment = self.get_object(request, unquote(object_id))
        if shipment.supplier_id is not None:
            raise PermissionDenied  # the supplier ships its own parcel
        change_url = reverse("admin:dropship_shipment_change", args=[shipment.pk])
        return _ship_view(self, request, shipment, change_url)


@admin.register(SupplierShipment)
class SupplierShipmentAdmin(ReadOnlyAdminMixin, _ShipmentDisplay, SupplierScopedAdmin):
    """A supplier's parcels: its own lines of each order and the recipient to ship to — nothing
    else of the store or the order."""

    list_display = (
        "order_number",
        "status",
        "recipient",
        "carrier",
        "tracking_number",
        "created_at",
    )
    list_filter = ("status",)
    # The recipient's name is encrypted (no lookups): the order number and tracking number find it.
    search_fields = ("order__number", "tracking_number")
    list_select_related = ("order",)
    fields = (
        "order_number",
        "status",
        "recipient",
        "items",
        "carrier",
        "tracking_number",
        "shipped_at",
    )
    readonly_fields = fields

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.exclude(supplier=None).prefetch_related("lines__order_line")

    def get_list_display(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return self.list_display

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="dropship_suppliershipment_ship",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        original = context.get("original")
        context["can_ship"] = (
            original is not None
            and request_supplier(request) is not None
            and original.status == Shipment.Status.PENDING
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def ship_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        shipment = self.get_object(request, unquote(object_id))
        if request_supplier(request) is None:
            raise PermissionDenied
        change_url = reverse("admin:dropship_suppliershipment_change", args=[shipment.pk])
        return _ship_view(self, request, shipment, change_url)


@admin.register(SupplierPayable)
class SupplierPayableAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Owed to suppliers: above the list, per supplier, what the store's sales owe it — frozen,
    releasable (the window closed), released and taken back by refunds; the list below is the
    drill-down, one row per supplied order line with its order (the supplier's name filters it).
    Read from the scoped shares only: staff see their store's and nothing else."""

    list_display = (
        "order_link",
        "supplier",
        "line",
        "amount",
        "reversed_amount",
        "kept",
        "state",
        "release_at",
        "released_at",
    )
    list_filter = ("supplier", "status")
    list_select_related = ("order", "order_line", "supplier")
    search_fields = ("order__number",)
    fields = list_display
    readonly_fields = list_display

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        if self.has_view_permission(request):
            rows = owed_to_suppliers(shares=self.get_queryset(request))
            extra_context = {
                **(extra_context or {}),
                "owed_rows": rows,
                "owed_total": owed_total([row.owed for row in rows]),
                "show_store": request.user.is_superuser,
            }
        return super().changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("order"), ordering="order_id")
    def order_link(self, obj: SupplierPayable) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:orders_order_change", args=[obj.order_id]),
            obj.order.number,
        )

    @admin.display(description=gettext_lazy("line"))
    def line(self, obj: SupplierPayable) -> str:
        line = obj.order_line
        return f"{line.product_name} / {line.sku_name} × {line.quantity}"

    @admin.display(description=gettext_lazy("owed"))
    def kept(self, obj: SupplierPayable) -> Decimal:
        return obj.amount - obj.reversed_amount

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: SupplierPayable) -> str:
        if (
            obj.status == SupplierPayable.Status.FROZEN
            and obj.release_at is not None
            and obj.release_at <= timezone.now()
        ):
            return _("Releasable")
        return obj.get_status_display()
