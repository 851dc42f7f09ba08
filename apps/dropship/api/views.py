from typing import cast

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.merchants.selectors import merchant_for_staff
from apps.products.api.serializers import MerchantProductSerializer
from apps.suppliers.models import SupplySku
from apps.suppliers.scoping import SupplierStaffViewSet
from apps.suppliers.selectors import supply_catalogue
from apps.tenancy.api import IsMerchantStaff, MerchantStaffViewSet

from ..models import Shipment, ShipmentLine
from ..services import shipment_ship, supply_pick
from .serializers import (
    CatalogueProductSerializer,
    MerchantShipmentSerializer,
    PickSerializer,
    ShipSerializer,
    SupplierShipmentSerializer,
)

SHIPMENT_LINES = Prefetch(
    "lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("id")
)


@extend_schema(tags=["merchant"])
class CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The supply catalogue (listed products of active suppliers), and picking one into the store."""

    permission_classes = [permissions.IsAuthenticated, IsMerchantStaff]
    serializer_class = CatalogueProductSerializer

    def get_queryset(self) -> QuerySet:
        return (
            supply_catalogue()
            .select_related("supplier")
            .prefetch_related(Prefetch("skus", queryset=SupplySku.objects.order_by("id")))
            .order_by("id")
        )

    @extend_schema(request=PickSerializer, responses={201: MerchantProductSerializer})
    @action(detail=True, methods=["post"])
    def pick(self, request: Request, pk: str) -> Response:
        """Put the product into the caller's store at its own retail prices (each at or above the
        SKU's floor: the supplier's minimum, or supply price plus the most commission and the
        platform fee can take)."""
        serializer = PickSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            prices = {int(key): value for key, value in serializer.validated_data["prices"].items()}
        except ValueError as error:
            raise NotFound(_("No such SKU of this product."), code="unknown_supply_sku") from error
        merchant = merchant_for_staff(request.user)
        assert merchant is not None  # IsMerchantStaff
        product = supply_pick(
            merchant=merchant, supply_product_id=int(pk) if pk.isdigit() else 0, prices=prices
        )
        return Response(
            MerchantProductSerializer(product, context={"merchant": merchant}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["merchant"])
class MerchantShipmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet
):
    """The parcels of the store's orders; the store ships its own (the suppliers ship theirs)."""

    queryset = Shipment.objects.all()
    serializer_class = MerchantShipmentSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("supplier").prefetch_related(SHIPMENT_LINES).order_by("-id")

    @extend_schema(request=ShipSerializer, responses=MerchantShipmentSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str) -> Response:
        shipment = self.get_object()
        if shipment.supplier_id is not None:
            raise NotFound(_("No such shipment."), code="unknown_shipment")
        serializer = ShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_ship(
            shipment=shipment, actor=cast(User, request.user), **serializer.validated_data
        )
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema(tags=["supplier"])
class SupplierShipmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, SupplierStaffViewSet
):
    """The caller's parcels to ship: the recipient and its own lines of each order."""

    queryset = Shipment.objects.all()
    serializer_class = SupplierShipmentSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("order").prefetch_related(SHIPMENT_LINES).order_by("-id")

    @extend_schema(request=ShipSerializer, responses=SupplierShipmentSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str) -> Response:
        shipment = self.get_object()
        serializer = ShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_ship(
            shipment=shipment, actor=cast(User, request.user), **serializer.validated_data
        )
        return Response(self.get_serializer(self.get_object()).data)
