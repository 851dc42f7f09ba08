from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets

from apps.products.models import Product, Sku
from apps.products.services import (
    product_create,
    product_delete,
    product_update,
    sku_create,
    sku_delete,
    sku_set_stock,
    sku_update,
)
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import MerchantProductSerializer, MerchantSkuSerializer, StoreProductSerializer


@extend_schema(tags=["storefront"])
class StoreProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """Products on sale in a store, each with its SKUs on sale. Public."""

    permission_classes = [permissions.AllowAny]
    queryset = Product.objects.all()
    serializer_class = StoreProductSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        on_sale_skus = Sku.objects.filter(is_active=True)
        return (
            queryset.filter(is_active=True)
            .filter(Exists(on_sale_skus.filter(product=OuterRef("pk"))))
            .prefetch_related(
                Prefetch(
                    "skus", queryset=on_sale_skus.order_by("price", "id"), to_attr="skus_on_sale"
                )
            )
            .order_by("sort_order", "id")
        )


@extend_schema(tags=["merchant"])
class MerchantProductViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """The merchant's products (on sale or not), each with all its SKUs."""

    queryset = Product.objects.all()
    serializer_class = MerchantProductSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("skus").order_by("sort_order", "id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        serializer.instance = product_create(merchant=self.merchant, **serializer.validated_data)

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        serializer.instance = product_update(
            merchant=self.merchant, product_id=serializer.instance.pk, **serializer.validated_data
        )

    def perform_destroy(self, instance: Product) -> None:
        product_delete(merchant=self.merchant, product_id=instance.pk)


@extend_schema(tags=["merchant"])
class MerchantSkuViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    queryset = Sku.objects.all()
    serializer_class = MerchantSkuSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("product_id", "id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        fields = dict(serializer.validated_data)
        fields.pop("expected_stock", None)  # a new SKU's stock is simply its opening stock
        product = fields.pop("product")
        serializer.instance = sku_create(merchant=self.merchant, product_id=product.pk, **fields)

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        """Stock is a compare-and-swap from the figure the client last read (``expected_stock``):
        if orders changed it since, the update is refused (409) rather than selling units twice."""
        sku: Sku = serializer.instance
        fields = dict(serializer.validated_data)
        stock = fields.pop("stock", None)
        expected = fields.pop("expected_stock", None)
        if "product" in fields:
            fields["product_id"] = fields.pop("product").pk
        with transaction.atomic():
            updated = sku_update(merchant=self.merchant, sku_id=sku.pk, **fields)
            if stock is not None and expected is not None:
                updated.stock = sku_set_stock(
                    merchant=self.merchant, sku_id=sku.pk, expected=expected, new=stock
                )
        serializer.instance = updated

    def perform_destroy(self, instance: Sku) -> None:
        sku_delete(merchant=self.merchant, sku_id=instance.pk)
