from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import SupplyProduct, SupplySku
from ..scoping import SupplierStaffViewSet
from ..services import supply_sku_save
from .serializers import SupplyProductSerializer, SupplySkuSerializer


@extend_schema(tags=["supplier"])
class SupplierProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, SupplierStaffViewSet
):
    """The caller's supply catalogue: its products with their SKUs."""

    queryset = SupplyProduct.objects.all()
    serializer_class = SupplyProductSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related(
            Prefetch("skus", queryset=SupplySku.objects.order_by("id"))
        ).order_by("id")


@extend_schema(tags=["supplier"])
class SupplierSkuViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SupplierStaffViewSet):
    """The caller's supply SKUs: prices, price rules, stock and whether they sell. A change of
    terms reaches every store that picked the SKU at once."""

    queryset = SupplySku.objects.all()
    serializer_class = SupplySkuSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("id")

    def partial_update(self, request: Request, pk: str) -> Response:
        sku = self.get_object()
        serializer = self.get_serializer(sku, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changed = [
            name for name, value in serializer.validated_data.items() if getattr(sku, name) != value
        ]
        for name, value in serializer.validated_data.items():
            setattr(sku, name, value)
        supply_sku_save(sku=sku, changed=changed)
        return Response(self.get_serializer(sku).data)
