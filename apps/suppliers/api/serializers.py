from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.merchants.models import slug_validator

from ..models import SupplierApplication, SupplyProduct, SupplySku


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


class SupplierApplicationCreateSerializer(serializers.Serializer):
    """供应商入驻: the applicant's future sign-in, the company and its business licence (a PDF,
    JPEG or PNG of at most ``FENXIAO_SUPPLIER_LICENCE_MAX_BYTES``; sent as multipart form data)."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    company_name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=50, validators=[slug_validator])
    categories = serializers.CharField(max_length=255)
    contact_name = serializers.CharField(max_length=64)
    contact_phone = serializers.CharField(max_length=32)
    contact_email = serializers.EmailField(max_length=254)
    # Empty files pass here so that the licence check says "empty" in its own words.
    licence = serializers.FileField(allow_empty_file=True)

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value

    def validate_slug(self, value: str) -> str:
        return value.strip().lower()


class SupplierApplicationSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        SupplierApplication.Status.choices,
        enum_name="SupplierApplicationStatusEnum",
        read_only=True,
    )

    class Meta:
        model = SupplierApplication
        fields = ["id", "company_name", "slug", "status", "created_at"]
        read_only_fields = fields
