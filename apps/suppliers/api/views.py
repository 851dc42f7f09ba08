from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from ..models import SupplyProduct, SupplySku
from ..scoping import SupplierStaffViewSet
from ..services import supplier_application_submit, supply_sku_save
from .serializers import (
    SupplierApplicationCreateSerializer,
    SupplierApplicationSerializer,
    SupplyProductSerializer,
    SupplySkuSerializer,
)


@extend_schema(tags=["public"])
class SupplierApplicationViewSet(viewsets.GenericViewSet):
    """A public supplier application with its business licence; the platform operator reviews it
    in the admin and the applicant is emailed the outcome.

    Belongs to no supplier yet, and nothing can be read back through it. A bad licence (missing,
    empty, too large, not a PDF/JPEG/PNG, an unreadable image) is a 400 with ``code`` ``licence``
    and writes nothing, not even the applicant's account.
    """

    permission_classes = [permissions.AllowAny]
    serializer_class = SupplierApplicationCreateSerializer
    parser_classes = [MultiPartParser, FormParser]
    # It creates a user account and stores an upload: throttled per client IP.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "supplier-applications"

    @extend_schema(
        request={"multipart/form-data": SupplierApplicationCreateSerializer},
        responses={201: SupplierApplicationSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = supplier_application_submit(**serializer.validated_data)
        return Response(
            SupplierApplicationSerializer(application).data, status=status.HTTP_201_CREATED
        )


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
