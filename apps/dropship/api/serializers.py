from rest_framework import serializers

from apps.suppliers.api.serializers import SupplySkuSerializer

from ..models import CatalogueProduct, Shipment


class CatalogueSkuSerializer(SupplySkuSerializer):
    class Meta(SupplySkuSerializer.Meta):
        read_only_fields = SupplySkuSerializer.Meta.fields


class CatalogueProductSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.name", read_only=True)
    skus = serializers.SerializerMethodField()

    class Meta:
        model = CatalogueProduct
        fields = [
            "id",
            "supplier",
            "name",
            "description",
            "shipping_template",
            "dispatch_days",
            "after_sale_terms",
            "skus",
        ]
        read_only_fields = fields

    def get_skus(self, product: CatalogueProduct) -> list[dict]:
        skus = [sku for sku in product.skus.all() if sku.is_active]
        return CatalogueSkuSerializer(skus, many=True).data  # type: ignore[return-value]


class PickSerializer(serializers.Serializer):
    prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2),
        allow_empty=False,
        help_text="Supply SKU id → your retail price, for each SKU you pick.",
    )


class ShipmentLineSerializer(serializers.Serializer):
    product_name = serializers.CharField(source="order_line.product_name")
    sku_name = serializers.CharField(source="order_line.sku_name")
    quantity = serializers.IntegerField(source="order_line.quantity")


class SupplierShipmentSerializer(serializers.ModelSerializer):
    """What a supplier needs to ship its parcel, and nothing else of the order or the store."""

    order_number = serializers.CharField(source="order.number", read_only=True)
    recipient_name = serializers.CharField(source="order.recipient_name", read_only=True)
    recipient_phone = serializers.CharField(source="order.recipient_phone", read_only=True)
    shipping_address = serializers.CharField(source="order.shipping_address", read_only=True)
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order_number",
            "status",
            "recipient_name",
            "recipient_phone",
            "shipping_address",
            "lines",
            "carrier",
            "tracking_number",
            "shipped_at",
        ]
        read_only_fields = fields


class MerchantShipmentSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.name", read_only=True, default=None)
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "supplier",
            "status",
            "lines",
            "carrier",
            "tracking_number",
            "shipped_at",
        ]
        read_only_fields = fields


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=64)
    tracking_number = serializers.CharField(max_length=64)
