"""REST API of agency mode (差价): the caller's resale prices, a micro-shop's catalogue (public)
and the merchant's tier purchase prices. Price control is the service's: every price goes through
``distributor_price_set`` / ``tier_price_*``."""

from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import DomainError, NotFound
from apps.distributors.agency import (
    distributor_price_clear,
    distributor_price_set,
    micro_shop_products,
    shop_sku_rows,
    tier_price_create,
    tier_price_delete,
    tier_price_update,
)
from apps.distributors.models import Distributor, DistributorPrice, Tier, TierSkuPrice
from apps.distributors.services import distributor_get_by_code
from apps.products.models import Product, Sku
from apps.tenancy.api import (
    MerchantScopedPrimaryKeyRelatedField,
    MerchantStaffViewSet,
    StoreViewSet,
)

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class PriceSheetRowSerializer(serializers.Serializer):
    sku = serializers.IntegerField(source="sku.pk")
    product = serializers.IntegerField(source="sku.product_id")
    product_name = serializers.CharField(source="sku.product.name")
    sku_name = serializers.CharField(source="sku.name")
    store_price = serializers.DecimalField(source="sku.price", **MONEY)
    purchase_price = serializers.DecimalField(
        allow_null=True, help_text="Null: not sold at your own price (the store price).", **MONEY
    )
    lowest = serializers.DecimalField(allow_null=True, help_text="Lowest allowed price.", **MONEY)
    highest = serializers.DecimalField(allow_null=True, help_text="Null: no ceiling.", **MONEY)
    my_price = serializers.DecimalField(allow_null=True, help_text="What you set.", **MONEY)
    price = serializers.DecimalField(help_text="The price in force in your micro-shop.", **MONEY)
    margin = serializers.DecimalField(allow_null=True, help_text="Per unit.", **MONEY)


class ResalePriceInputSerializer(serializers.Serializer):
    sku = serializers.IntegerField(min_value=1, max_value=2**62)
    price = serializers.CharField(max_length=32, help_text="Two places at most, e.g. 129.90.")


def _sheet(distributor: Distributor, sku_ids: list[int] | None = None) -> list:
    skus = Sku.objects.filter(
        merchant_id=distributor.merchant_id, is_active=True, product__is_active=True
    ).select_related("product")
    if sku_ids is not None:
        skus = Sku.objects.filter(merchant_id=distributor.merchant_id, pk__in=sku_ids)
        skus = skus.select_related("product")
    return shop_sku_rows(
        distributor=distributor, skus=list(skus.order_by("product__sort_order", "product_id", "id"))
    )


@extend_schema(tags=["distributor"])
class AgencyPriceViewSet(StoreViewSet):
    """The caller's resale prices in their micro-shop (agency mode), with the allowed range.

    ``POST`` sets a price (refused outside the floor/ceiling or below the purchase price);
    ``DELETE …/<sku id>/`` goes back to the store price.
    """

    queryset = DistributorPrice.objects.all()
    serializer_class = PriceSheetRowSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(distributor__user_id=self.request.user.pk)

    def own_profile(self) -> Distributor:
        distributor = (
            Distributor.objects.filter(merchant=self.merchant, user=cast(User, self.request.user))
            .select_related("merchant")
            .first()
        )
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    @extend_schema(responses=PriceSheetRowSerializer(many=True))
    def list(self, request: Request, store: str) -> Response:
        return Response(PriceSheetRowSerializer(_sheet(self.own_profile()), many=True).data)

    @extend_schema(request=ResalePriceInputSerializer, responses={200: PriceSheetRowSerializer})
    def create(self, request: Request, store: str) -> Response:
        distributor = self.own_profile()
        serializer = ResalePriceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sku_id = serializer.validated_data["sku"]
        distributor_price_set(
            distributor=distributor, sku_id=sku_id, price=serializer.validated_data["price"]
        )
        return Response(PriceSheetRowSerializer(_sheet(distributor, [sku_id])[0]).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, store: str, pk: str) -> Response:
        try:
            sku_id = int(pk)
        except ValueError as error:
            raise NotFound(_("No SKU with id %(pk)s.") % {"pk": pk[:32]}) from error
        distributor_price_clear(distributor=self.own_profile(), sku_id=sku_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MicroShopSkuSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(source="shop_price", read_only=True, **MONEY)

    class Meta:
        model = Sku
        fields = ["id", "name", "code", "price", "stock"]
        read_only_fields = fields


class MicroShopProductSerializer(serializers.ModelSerializer):
    image = serializers.ImageField(read_only=True, use_url=True)
    skus = MicroShopSkuSerializer(many=True, read_only=True, source="skus_on_sale")

    class Meta:
        model = Product
        fields = ["id", "name", "description", "image", "skus"]
        read_only_fields = fields


@extend_schema(tags=["storefront"])
class MicroShopProductViewSet(StoreViewSet):
    """A distributor's micro-shop (微店): the store's products at that distributor's prices in
    force (the store's prices when agency mode is off). Public. Add to the cart with ``shop``."""

    permission_classes = [permissions.AllowAny]
    queryset = Product.objects.all()
    serializer_class = MicroShopProductSerializer

    @extend_schema(responses=MicroShopProductSerializer(many=True))
    def list(self, request: Request, store: str, code: str) -> Response:
        try:
            shop = distributor_get_by_code(merchant=self.merchant, code=code)
        except DomainError as error:
            raise NotFound(error.message, code="unknown_shop") from error
        products = micro_shop_products(merchant=self.merchant, shop=shop)
        return Response(self.get_serializer(products, many=True).data)


class TierPriceSerializer(serializers.ModelSerializer):
    tier = MerchantScopedPrimaryKeyRelatedField(
        queryset=Tier.objects.all(),
        allow_null=True,
        required=False,
        help_text="Null: the base purchase price (distributors without a tier price).",
    )
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())
    purchase_price = serializers.CharField(max_length=32, help_text="e.g. 59.90")

    class Meta:
        model = TierSkuPrice
        fields = ["id", "tier", "sku", "purchase_price"]
        read_only_fields = ["id"]
        validators: list = []  # uniqueness is the service's (a clear 400 either way)

    def to_representation(self, instance: TierSkuPrice) -> dict:
        data = super().to_representation(instance)
        data["purchase_price"] = str(instance.purchase_price)
        return data


@extend_schema(tags=["merchant"])
class MerchantTierPriceViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """Purchase prices per tier and SKU for agency mode; a null tier is the base price."""

    queryset = TierSkuPrice.objects.all()
    serializer_class = TierPriceSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("sku_id", "tier_id", "id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = cast(dict, serializer.validated_data)
        tier = data.get("tier")
        serializer.instance = tier_price_create(
            merchant=self.merchant,
            tier_id=tier.pk if tier else None,
            sku_id=data["sku"].pk,
            purchase_price=data["purchase_price"],
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = cast(dict, serializer.validated_data)
        fields: dict[str, Any] = {}
        if "purchase_price" in data:
            fields["purchase_price"] = data["purchase_price"]
        if "tier" in data:
            tier = data["tier"]
            fields["tier_id"] = tier.pk if tier is not None else None
        if "sku" in data:
            fields["sku_id"] = data["sku"].pk
        row = cast(TierSkuPrice, serializer.instance)
        serializer.instance = tier_price_update(
            merchant=self.merchant, tier_price_id=row.pk, **fields
        )

    def perform_destroy(self, instance: TierSkuPrice) -> None:
        tier_price_delete(merchant=self.merchant, tier_price_id=instance.pk)
