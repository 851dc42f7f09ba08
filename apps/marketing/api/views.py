"""The marketing centre in the API.

For consumers (``stores/<store>/…``): the coupon centre (``coupons/``, anyone may read it;
``coupons/{id}/claim/`` signed in) and the caller's own coupons (``my-coupons/``). A coupon link of a
distributor is claimed through ``coupon-links/`` (the programme's API: it binds the consumer too).
For merchant staff (``merchant/…``): coupons, promotions and flash sales.
"""

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .. import selectors, services
from ..models import Coupon, CouponGrant, FlashSale, Promotion
from .serializers import (
    CouponGrantSerializer,
    CouponStateFilterSerializer,
    FlashSaleSerializer,
    FlashSaleUpdateSerializer,
    MerchantCouponSerializer,
    PromotionSerializer,
    StoreCouponSerializer,
)

# --- consumers --------------------------------------------------------------------------------


@extend_schema(tags=["storefront"])
class StoreCouponViewSet(mixins.ListModelMixin, StoreViewSet):
    """The coupon centre: the store's coupons on offer now, with how many the caller claimed."""

    queryset = Coupon.objects.all()
    serializer_class = StoreCouponSerializer
    permission_classes = [permissions.AllowAny]

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.coupons_on_offer(merchant=self.merchant)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request.user.is_authenticated:
            context["claimed"] = selectors.claimed_counts(
                merchant=self.merchant, customer=cast(User, self.request.user)
            )
        return context

    @extend_schema(request=None, responses={201: CouponGrantSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def claim(self, request: Request, store: str, pk: str) -> Response:
        """Claim one (the per-person limit and the batch's total hold; 400 with a code if not)."""
        if not pk.isdigit():
            return Response(status=status.HTTP_404_NOT_FOUND)
        grant = services.coupon_claim(
            merchant=self.merchant, customer=cast(User, request.user), coupon_id=int(pk)
        )
        return Response(CouponGrantSerializer(grant).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["storefront"])
class MyCouponViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """The caller's coupons in this store (``state``: unused, used, expired; none: all)."""

    queryset = CouponGrant.objects.all()
    serializer_class = CouponGrantSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        query = CouponStateFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.customer_coupons(
            merchant=self.merchant,
            customer=cast(User, self.request.user),
            state=query.validated_data.get("state", ""),
        )

    @extend_schema(parameters=[CouponStateFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().list(request, *args, **kwargs)


# --- merchant staff ---------------------------------------------------------------------------


@extend_schema(tags=["merchant"])
class MerchantCouponViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """The merchant's coupon batches. Deleting one that was issued is refused (409): deactivate."""

    queryset = Coupon.objects.all()
    serializer_class = MerchantCouponSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("products").order_by("-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(merchant=self.merchant)

    def perform_destroy(self, instance: Coupon) -> None:
        services.coupon_delete(coupon=instance)


@extend_schema(tags=["merchant"])
class MerchantPromotionViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """Limited-time prices and full reductions, with their prices and steps."""

    queryset = Promotion.objects.all()
    serializer_class = PromotionSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("products", "prices", "steps").order_by(
            "-starts_at", "-id"
        )

    def _save(self, serializer: serializers.BaseSerializer, promotion: Promotion | None) -> None:
        data = dict(serializer.validated_data)
        products = data.pop("products", None)
        prices = data.pop("prices", None)
        steps = data.pop("steps", None)
        serializer.instance = services.promotion_save(
            merchant=self.merchant,
            promotion=promotion,
            fields=data,
            products=products,
            prices=None if prices is None else [(row["sku"], row["price"]) for row in prices],
            steps=steps,
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer, None)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer, serializer.instance)

    def _fresh(self, promotion_id: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=promotion_id)).data

    def create(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        assert serializer.instance is not None  # set by promotion_save
        return Response(self._fresh(serializer.instance.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        assert serializer.instance is not None
        return Response(self._fresh(serializer.instance.pk))


@extend_schema(tags=["merchant"])
class MerchantFlashSaleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    MerchantStaffViewSet,
):
    """Flash sales: creating one takes its pool from the SKU's stock (refused on a supplied SKU,
    below the floor, over an overlapping sale, or short of stock); changes: name and price."""

    queryset = FlashSale.objects.all()
    serializer_class = FlashSaleSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("-starts_at", "-id")

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        if self.action in ("update", "partial_update"):
            return FlashSaleUpdateSerializer
        return FlashSaleSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.flash_sale_create(
            merchant=self.merchant,
            sku=data["sku"],
            name=data["name"],
            price=data["price"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            pool=data["pool"],
            per_person_limit=data.get("per_person_limit", 1),
        )

    @extend_schema(request=FlashSaleUpdateSerializer, responses=FlashSaleSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        partial = kwargs.pop("partial", False)
        sale = self.get_object()
        serializer = FlashSaleUpdateSerializer(sale, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.flash_sale_update(
            sale=sale,
            name=serializer.validated_data.get("name"),
            price=serializer.validated_data.get("price"),
        )
        return Response(FlashSaleSerializer(sale).data)

    @extend_schema(request=FlashSaleUpdateSerializer, responses=FlashSaleSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)
