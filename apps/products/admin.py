from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from apps.core.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant
from apps.core.errors import DomainError
from apps.merchants.models import Merchant

from .models import Product, Sku
from .services import (
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
SKU_EDITABLE = ("product", "name", "code", "price", "is_active")


def _stock_as_rendered(form: forms.ModelForm) -> int:
    """The stock shown when the form was rendered (its hidden initial value), else as loaded."""
    field = form.fields["stock"]
    if field.show_hidden_initial:
        raw = field.hidden_widget().value_from_datadict(
            form.data, form.files, form.add_initial_prefix("stock")
        )
        try:
            rendered = field.to_python(raw)
        except ValidationError:
            rendered = None
        if rendered is not None:
            return int(rendered)
    return int(form.initial.get("stock") or 0)


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


class _ServiceErrorsAsMessages:
    """The forms already check what the services check; a service refusing anyway (a concurrent
    change in between) is shown as an error message rather than a server error."""

    def _refused(self, request: HttpRequest, error: DomainError, label: object) -> None:
        self.message_user(  # type: ignore[attr-defined]
            request, f"{label}: {error.message}", messages.ERROR
        )


class SkuInline(MerchantScopedTabularInline):
    """A product's SKUs; each row's merchant is the product's (set by the base, never chosen)."""

    model = Sku
    fields = ("name", "code", "price", "stock", "is_active")
    extra = 1
    formfield_overrides = STOCK_AS_RENDERED


@admin.register(Product)
class ProductAdmin(_ServiceErrorsAsMessages, MerchantScopedAdmin):
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
        try:
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
            fields = {
                name: getattr(obj, name) for name in form.changed_data if name in PRODUCT_FIELDS
            }
            if fields:
                product_update(merchant=obj.merchant, product_id=obj.pk, **fields)
        except DomainError as error:
            self._refused(request, error, obj)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        if formset.model is not Sku:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # builds the instances and the change message; writes nothing
        product: Product = form.instance
        if product.pk is None:
            return  # the product itself was refused (message shown)
        merchant = product.merchant
        forms_by_pk = {sku_form.instance.pk: sku_form for sku_form in formset.initial_forms}
        for sku in formset.deleted_objects:
            try:
                sku_delete(merchant=merchant, sku_id=sku.pk)
            except DomainError as error:
                self._refused(request, error, sku)
        for sku, _changed_data in formset.changed_objects:
            try:
                _sku_update_from(merchant, forms_by_pk[sku.pk])
            except DomainError as error:
                self._refused(request, error, sku)
        for sku in formset.new_objects:
            sku.product = product
            try:
                _sku_create_from(merchant, sku)
            except DomainError as error:
                self._refused(request, error, sku.code)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        try:
            product_delete(merchant=obj.merchant, product_id=obj.pk)
        except DomainError as error:
            self._refused(request, error, obj)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for product in queryset.select_related("merchant").order_by("pk"):
            self.delete_model(request, product)

    @admin.display(description=gettext_lazy("SKUs"), ordering="sku_count")
    def sku_count(self, product: Product) -> int:
        return product.sku_count  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("stock"), ordering="total_stock")
    def total_stock(self, product: Product) -> int:
        return product.total_stock or 0  # type: ignore[attr-defined]


@admin.register(Sku)
class SkuAdmin(_ServiceErrorsAsMessages, MerchantScopedAdmin):
    list_display = ("code", "name", "product", "price", "stock", "is_active")
    list_filter = ("is_active", "product")
    search_fields = ("code", "name", "product__name")
    list_select_related = ("product",)
    fields = ("product", "name", "code", "price", "stock", "is_active")
    ordering = ("product_id", "id")
    formfield_overrides = STOCK_AS_RENDERED

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        try:
            if not change:
                merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
                _sku_create_from(merchant, obj)
            else:
                _sku_update_from(obj.merchant, form)
        except DomainError as error:
            self._refused(request, error, obj.code)

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        try:
            sku_delete(merchant=obj.merchant, sku_id=obj.pk)
        except DomainError as error:
            self._refused(request, error, obj.code)

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        for sku in queryset.select_related("merchant").order_by("pk"):
            self.delete_model(request, sku)
