from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.products.models import Product, Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField

# --- Storefront (public) ---------------------------------------------------------------------


class StoreSkuSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = ["id", "name", "code", "price", "stock"]
        read_only_fields = fields


class StoreProductSerializer(serializers.ModelSerializer):
    """A product on sale with its SKUs on sale (prefetched as ``skus_on_sale``)."""

    image = serializers.ImageField(read_only=True, use_url=True)
    skus = StoreSkuSerializer(many=True, read_only=True, source="skus_on_sale")

    class Meta:
        model = Product
        fields = ["id", "name", "description", "image", "skus"]
        read_only_fields = fields


# --- Merchant back office ---------------------------------------------------------------------


class MerchantProductSkuSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = [
            "id",
            "name",
            "code",
            "price",
            "stock",
            "is_active",
            "min_resale_price",
            "max_resale_price",
        ]
        read_only_fields = fields


class MerchantProductSerializer(serializers.ModelSerializer):
    image = serializers.ImageField(read_only=True, use_url=True)
    skus = MerchantProductSkuSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "image",
            "is_active",
            "sort_order",
            "created_at",
            "skus",
        ]
        read_only_fields = ["id", "image", "created_at", "skus"]


class MerchantSkuSerializer(serializers.ModelSerializer):
    product = MerchantScopedPrimaryKeyRelatedField(queryset=Product.objects.all())
    expected_stock = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=0,
        help_text=_(
            "When changing stock: the stock you last read. If orders changed it since, the "
            "update is refused (409) instead of putting sold units back."
        ),
    )

    class Meta:
        model = Sku
        fields = [
            "id",
            "product",
            "name",
            "code",
            "price",
            "stock",
            "expected_stock",
            "is_active",
            "min_resale_price",
            "max_resale_price",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        stock = attrs.get("stock")
        changing = self.instance is not None and stock is not None and stock != self.instance.stock
        if changing and "expected_stock" not in attrs:
            raise serializers.ValidationError(
                {
                    "expected_stock": _(
                        "Send the stock you last read with the new stock, so that units sold "
                        "meanwhile are not put back."
                    )
                }
            )
        return attrs

    def validate_code(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        taken = Sku.objects.filter(merchant=self.context["merchant"], code=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(
                _("Another SKU of this store already has the code “%(code)s”.") % {"code": value}
            )
        return value
