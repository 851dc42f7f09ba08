from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy

from apps.core.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from .models import Product, Sku

# Orders reserve stock concurrently: a SKU row is written only with the fields the merchant changed
# since the form was *rendered* (hidden initial values), so editing a price never puts back stock
# that was sold meanwhile.
STOCK_AS_RENDERED: dict[type[models.Field], dict[str, Any]] = {
    models.IntegerField: {"show_hidden_initial": True}
}


class SkuInline(MerchantScopedTabularInline):
    """A product's SKUs; each row's merchant is the product's (set by the base, never chosen)."""

    model = Sku
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
        return queryset.annotate(
            sku_count=Count("skus", distinct=True), total_stock=Sum("skus__stock")
        )

    @admin.display(description=gettext_lazy("SKUs"), ordering="sku_count")
    def sku_count(self, product: Product) -> int:
        return product.sku_count  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("stock"), ordering="total_stock")
    def total_stock(self, product: Product) -> int:
        return product.total_stock or 0  # type: ignore[attr-defined]


@admin.register(Sku)
class SkuAdmin(MerchantScopedAdmin):
    list_display = ("code", "name", "product", "price", "stock", "is_active")
    list_filter = ("is_active", "product")
    search_fields = ("code", "name", "product__name")
    list_select_related = ("product",)
    fields = ("product", "name", "code", "price", "stock", "is_active")
    ordering = ("product_id", "id")
    formfield_overrides = STOCK_AS_RENDERED
