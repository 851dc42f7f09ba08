from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.products.models import Product, Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField

from ..models import Coupon, CouponGrant, FlashSale, Promotion, PromotionPrice, PromotionStep
from ..selectors import GRANT_STATES, grant_state

COUPON_RULE_FIELDS = [
    "name",
    "kind",
    "amount_off",
    "percent_off",
    "max_discount",
    "threshold",
    "valid_from",
    "valid_until",
    "valid_days",
    "per_person_limit",
    "scope",
    "stackable",
]


class StoreCouponSerializer(serializers.ModelSerializer):
    """A coupon as the coupon centre offers it."""

    remaining = serializers.SerializerMethodField(help_text="How many are left to claim.")
    claimed = serializers.SerializerMethodField(help_text="How many the caller has claimed.")

    class Meta:
        model = Coupon
        fields = ["id", *COUPON_RULE_FIELDS, "remaining", "claimed"]
        read_only_fields = fields

    def get_remaining(self, coupon: Coupon) -> int:
        return coupon.total_quantity - coupon.issued_count

    def get_claimed(self, coupon: Coupon) -> int:
        return self.context.get("claimed", {}).get(coupon.pk, 0)


class GrantCouponSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coupon
        fields = ["id", *COUPON_RULE_FIELDS]
        read_only_fields = fields


class CouponGrantSerializer(serializers.ModelSerializer):
    """One of the caller's coupons."""

    coupon = GrantCouponSerializer(read_only=True)
    state = serializers.SerializerMethodField(
        help_text="unused (usable, or not valid yet), used, or expired (or withdrawn)."
    )

    class Meta:
        model = CouponGrant
        fields = [
            "id",
            "coupon",
            "state",
            "status",
            "source",
            "valid_from",
            "valid_until",
            "order",
            "claimed_at",
            "used_at",
        ]
        read_only_fields = fields

    def get_state(self, grant: CouponGrant) -> str:
        return grant_state(grant)


class CouponStateFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[value for value, _label in GRANT_STATES], required=False, allow_blank=True
    )


class MerchantCouponSerializer(serializers.ModelSerializer):
    """A coupon batch in the back office; ``issued_count`` moves only by claims and issues."""

    products = MerchantScopedPrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )

    class Meta:
        model = Coupon
        fields = [
            "id",
            *COUPON_RULE_FIELDS,
            "total_quantity",
            "issued_count",
            "products",
            "claimable",
            "distributor_shareable",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["issued_count", "created_at"]

    def validate(self, attrs: dict) -> dict:
        def value(name: str):  # type: ignore[no-untyped-def]
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else None

        if not value("valid_days") and value("valid_until") is None:
            raise serializers.ValidationError(_("Give an end date or a number of days."))
        starts, ends = value("valid_from"), value("valid_until")
        if starts is not None and ends is not None and ends <= starts:
            raise serializers.ValidationError(_("The end must be after the start."))
        kind = value("kind") or Coupon.Kind.AMOUNT
        if kind == Coupon.Kind.PERCENT and not (value("percent_off") or Decimal(0)) > 0:
            raise serializers.ValidationError({"percent_off": _("Give the percent off.")})
        if kind != Coupon.Kind.PERCENT and not (value("amount_off") or Decimal(0)) > 0:
            raise serializers.ValidationError({"amount_off": _("Give the amount off.")})
        total = value("total_quantity")
        if self.instance is not None and total is not None and total < self.instance.issued_count:
            raise serializers.ValidationError(
                {
                    "total_quantity": _("%(issued)d have been issued already.")
                    % {"issued": self.instance.issued_count}
                }
            )
        return attrs


class PromotionPriceSerializer(serializers.ModelSerializer):
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())

    class Meta:
        model = PromotionPrice
        fields = ["sku", "price"]


class PromotionStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromotionStep
        fields = ["threshold", "amount_off", "percent_off"]
        # the (promotion, threshold) uniqueness is checked over the whole list by the service
        validators: list = []


class PromotionSerializer(serializers.ModelSerializer):
    """A limited-time price (``prices``: per SKU) or a stepped full reduction (``steps``).
    Writing ``prices`` or ``steps`` replaces the promotion's whole list."""

    products = MerchantScopedPrimaryKeyRelatedField(
        queryset=Product.objects.all(), many=True, required=False
    )
    prices = PromotionPriceSerializer(many=True, required=False)
    steps = PromotionStepSerializer(many=True, required=False)

    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "kind",
            "starts_at",
            "ends_at",
            "products",
            "is_active",
            "prices",
            "steps",
        ]

    def validate(self, attrs: dict) -> dict:
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts is not None and ends is not None and ends <= starts:
            raise serializers.ValidationError(_("The end must be after the start."))
        return attrs


class FlashSaleSerializer(serializers.ModelSerializer):
    """A flash sale: its pool leaves the SKU's stock when it is created; afterwards only the name
    and the flash price change. Unsold units go back to the SKU when it ends."""

    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())

    class Meta:
        model = FlashSale
        fields = [
            "id",
            "name",
            "sku",
            "price",
            "starts_at",
            "ends_at",
            "pool",
            "remaining",
            "per_person_limit",
            "returned_at",
            "created_at",
        ]
        read_only_fields = ["remaining", "returned_at", "created_at"]


class FlashSaleUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlashSale
        fields = ["name", "price"]
