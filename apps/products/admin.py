from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import SaveRefused
from apps.core.errors import DomainError
from apps.merchants.models import Merchant
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import Product, Sku
from .services import (
    MAX_STOCK,
    PRODUCT_FIELDS,
    product_create,
    product_delete,
    product_update,
    sku_adjust_stock,
    sku_create,
    sku_delete,
    sku_update,
)

# Orders reserve stock concurrently: the form carries the stock as it was *rendered* (hidden
# initial values), and a stock edit is applied as the difference from that figure
# (``sku_adjust_stock``), so neither editing a price nor restocking ever puts back stock that was
# sold meanwhile. The other fields are written only when the form changed them.
STOCK_AS_RENDERED: dict[type[models.Field], dict[str, Any]] = {
    models.IntegerField: {"show_hidden_initial": True}
}
SKU_EDITABLE = (
    "product",
    "name",
    "code",
    "price",
    "is_active",
    "min_resale_price",
    "max_resale_price",
)


def _hidden_initial_stock(form: forms.ModelForm) -> tuple[bool, int | None]:
    """(whether the form carries the stock as rendered, that figure or None if it is no stock)."""
    field = form.fields["stock"]
    if not field.show_hidden_initial:
        return False, None
    raw = field.hidden_widget().value_from_datadict(
        form.data, form.files, form.add_initial_prefix("stock")
    )
    try:
        rendered = field.to_python(raw)
    except ValidationError:
        return True, None
    if rendered is None or not 0 <= rendered <= MAX_STOCK:
        return True, None
    return True, int(rendered)


def _stock_as_rendered(form: forms.ModelForm) -> int:
    """The stock shown when the form was rendered (its hidden initial value), else as loaded."""
    carried, rendered = _hidden_initial_stock(form)
    if carried and rendered is not None:
        return rendered
    return int(form.initial.get("stock") or 0)


class SkuForm(forms.ModelForm):
    """A stock edit is applied as the difference from the stock as rendered (a hidden value the
    browser sends back): a value there that is no stock at all is a form error, not a guess."""

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if self.instance.pk and "stock" in self.fields:
            carried, rendered = _hidden_initial_stock(self)
            if carried and rendered is None:
                self.add_error(
                    "stock",
                    _(
                        "The form was changed outside the page; reload it and enter the stock again."
                    ),
                )
        return cleaned


def _sku_create_from(merchant: Merchant, sku: Sku) -> None:
    """Create ``sku`` (the admin's unsaved instance) through the service and give it its id."""
    created = sku_create(
        merchant=merchant,
        product_id=sku.product_id,
        name=sku.name,
        code=sku.code,
        price=sku.price,
        stock=sku.stock,
        is_active=sku.is_active,
        min_resale_price=sku.min_resale_price,
        max_resale_price=sku.max_resale_price,
    )
    sku.pk, sku.merchant_id = created.pk, created.merchant_id
    sku._state.adding = False


def _sku_update_from(merchant: Merchant, sku_form: forms.ModelForm) -> None:
    """Save what the form changed: all of it, or (if a service refuses) none of it."""
    sku: Sku = sku_form.instance
    attributes = [
        "product_id" if name == "product" else name
        for name in sku_form.changed_data
        if name in SKU_EDITABLE
    ]
    with transaction.atomic():
        if attributes:
            sku_update(
                merchant=merchant,
                sku_id=sku.pk,
                **{name: getattr(sku, name) for name in attributes},
            )
        if "stock" in sku_form.changed_data:
            delta = sku_form.cleaned_data["stock"] - _stock_as_rendered(sku_form)
            if delta:
                sku.stock = sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=delta)


def _delete_or_report(
    model_admin: MerchantScopedAdmin, request: HttpRequest, row: models.Model, *, label: str
) -> None:
    """The bulk delete action: a row a service refuses to delete is an error message naming it;
    the others are deleted."""
    try:
        model_admin.delete_model(request, row)
    except DomainError as error:
        model_admin.message_user(request, f"{label}: {error.message}", messages.ERROR)


class SkuInline(MerchantScopedTabularInline):
    """A product's SKUs; each row's merchant is the product's (set by the base, never chosen)."""

    model = Sku
    form = SkuForm
    fields = ("name", "code", "price", "stock", "is_active")
    extra = 1
    formfield_overrides = STOCK_AS_RENDERED


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    list_display = ("name", "is_active", "sku_count", "total_stock", "sort_order", "created_at")
    list_filter = ("is_active", "created_at")
    search_fields = ("name", "skus__code", "skus__name")
    fields = ("name", "description", "image", "is_active", "sort_order")
    inlines = (SkuInline,)

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        # Aggregating drops the model's default ordering; restate it for stable pages.
        return queryset.annotate(
            sku_count=Count("skus", distinct=True), total_stock=Sum("skus__stock")
        ).order_by("sort_order", "id")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # A service's DomainError rolls the whole save back and is shown on the form
        # (RefusableSavesMixin): nothing is saved, logged or reported as changed.
        if not change:
            merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
            created = product_create(
                merchant=merchant,
                name=obj.name,
                description=obj.description,
                image=obj.image or None,
                is_active=obj.is_active,
                sort_order=obj.sort_order,
            )
            obj.pk, obj.merchant_id, obj.created_at = (
                created.pk,
                created.merchant_id,
                created.created_at,
            )
            obj._state.adding = False
            return
        fields = {name: getattr(obj, name) for name in form.changed_data if name in PRODUCT_FIELDS}
        if fields:
            product_update(merchant=obj.merchant, product_id=obj.pk, **fields)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        if formset.model is not Sku:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # builds the instances and the change message; writes nothing
        product: Product = form.instance
        merchant = product.merchant
        forms_by_pk = {sku_form.instance.pk: sku_form for sku_form in formset.initial_forms}
        # Existing SKUs are written in ascending id order, the order in which order placement
        # locks them, so that a save and an order never wait for each other in a cycle.
        deleted = {sku.pk for sku in formset.deleted_objects}
        existing = sorted(
            [*formset.deleted_objects, *(sku for sku, _changed in formset.changed_objects)],
            key=lambda sku: sku.pk,
        )
        for sku in existing:
            try:
                if sku.pk in deleted:
                    sku_delete(merchant=merchant, sku_id=sku.pk)
                else:
                    _sku_update_from(merchant, forms_by_pk[sku.pk])
            except DomainError as error:
                raise SaveRefused(f"{sku.code}: {error.message}") from error
        for sku in formset.new_objects:
            sku.product = product
            try:
                _sku_create_from(merchant, sku)
            except DomainError as error:
                raise SaveRefused(f"{sku.code}: {error.message}") from error

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        # refused: an error message, nothing deleted or logged (RefusableSavesMixin)
        product_delete(merchant=obj.merchant, product_id=obj.pk)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for product in queryset.select_related("merchant").order_by("pk"):
            _delete_or_report(self, request, product, label=str(product))

    @admin.display(description=gettext_lazy("SKUs"), ordering="sku_count")
    def sku_count(self, product: Product) -> int:
        return product.sku_count  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("stock"), ordering="total_stock")
    def total_stock(self, product: Product) -> int:
        return product.total_stock or 0  # type: ignore[attr-defined]


@admin.register(Sku)
class SkuAdmin(MerchantScopedAdmin):
    list_display = (
        "code",
        "name",
        "product",
        "price",
        "min_resale_price",
        "max_resale_price",
        "stock",
        "is_active",
    )
    list_filter = ("is_active", "product")
    search_fields = ("code", "name", "product__name")
    list_select_related = ("product",)
    fields = (
        "product",
        "name",
        "code",
        "price",
        "min_resale_price",
        "max_resale_price",
        "stock",
        "is_active",
    )
    ordering = ("product_id", "id")
    form = SkuForm
    formfield_overrides = STOCK_AS_RENDERED

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # A refusal is a form error (RefusableSavesMixin): nothing saved, logged or reported.
        if not change:
            merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
            _sku_create_from(merchant, obj)
        else:
            _sku_update_from(obj.merchant, form)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        # refused: an error message, nothing deleted or logged (RefusableSavesMixin)
        sku_delete(merchant=obj.merchant, sku_id=obj.pk)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for sku in queryset.select_related("merchant").order_by("pk"):
            _delete_or_report(self, request, sku, label=sku.code)
