from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, ProtectedError, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets

from apps.core.api import MerchantStaffViewSet, StoreViewSet
from apps.core.errors import Conflict
from apps.products.models import Product, Sku

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


class _ProtectedDeleteMixin:
    protected_message = ""

    def perform_destroy(self, instance) -> None:  # type: ignore[no-untyped-def]
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as error:
            raise Conflict(self.protected_message, code="protected") from error


@extend_schema(tags=["merchant"])
class MerchantProductViewSet(_ProtectedDeleteMixin, viewsets.ModelViewSet, MerchantStaffViewSet):
    """The merchant's products (on sale or not), each with all its SKUs."""

    queryset = Product.objects.all()
    serializer_class = MerchantProductSerializer
    protected_message = _("This product has SKUs or orders; take it off sale instead.")

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("skus").order_by("sort_order", "id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        serializer.save(merchant=self.merchant)


@extend_schema(tags=["merchant"])
class MerchantSkuViewSet(_ProtectedDeleteMixin, viewsets.ModelViewSet, MerchantStaffViewSet):
    queryset = Sku.objects.all()
    serializer_class = MerchantSkuSerializer
    protected_message = _("This SKU has been ordered; take it off sale instead.")

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("product_id", "id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        self._save(serializer, merchant=self.merchant)

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        self._save(serializer)

    def _save(self, serializer, **fields) -> None:  # type: ignore[no-untyped-def]
        try:
            with transaction.atomic():
                serializer.save(**fields)
        except IntegrityError as error:  # a concurrent request took the same code
            raise Conflict(
                _("Another SKU of this store already has this code."), code="sku_code_taken"
            ) from error
