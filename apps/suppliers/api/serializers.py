from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import SupplyProduct, SupplySku


class SupplySkuSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplySku
        fields = [
            "id",
            "product",
            "name",
            "code",
            "supply_price",
            "suggested_retail_price",
            "min_retail_price",
            "stock",
            "is_active",
        ]
        read_only_fields = ["id", "product", "code"]

    def validate(self, attrs: dict) -> dict:
        def value(name: str):  # type: ignore[no-untyped-def]
            return attrs.get(name, getattr(self.instance, name, None))

        supply, minimum, suggested = (
            value("supply_price"),
            value("min_retail_price"),
            value("suggested_retail_price"),
        )
        if None not in (supply, minimum, suggested) and not supply <= minimum <= suggested:
            raise serializers.ValidationError(
                _("Prices rise from the supply price to the minimum to the suggested retail price.")
            )
        if value("stock") is not None and value("stock") < 0:
            raise serializers.ValidationError({"stock": _("Stock cannot be negative.")})
        return attrs


class SupplyProductSerializer(serializers.ModelSerializer):
    skus = SupplySkuSerializer(many=True, read_only=True)

    class Meta:
        model = SupplyProduct
        fields = [
            "id",
            "name",
            "description",
            "shipping_template",
            "dispatch_days",
            "after_sale_terms",
            "is_listed",
            "removed_by_platform",
            "removed_reason",
            "skus",
        ]
        read_only_fields = fields
