from rest_framework import serializers

from apps.orders.api.serializers import StoreOrderSerializer
from apps.orders.services import MAX_LINE_QUANTITY
from apps.products.models import Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField

from ..models import Group, GroupBuy

GROUP_FIELDS = [
    "id",
    "campaign",
    "status",
    "size",
    "seats_taken",
    "seats_left",
    "paid_count",
    "opened_at",
    "deadline",
    "filled_at",
    "closed_at",
]


class GroupSerializer(serializers.ModelSerializer):
    seats_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = GROUP_FIELDS
        read_only_fields = fields


class StoreGroupBuySerializer(serializers.ModelSerializer):
    """A running group buy as shoppers see it, with the groups open to join."""

    product = serializers.IntegerField(source="sku.product_id", read_only=True)
    list_price = serializers.DecimalField(
        source="sku.price", max_digits=12, decimal_places=2, read_only=True
    )
    joinable_groups = GroupSerializer(source="joinable", many=True, read_only=True)

    class Meta:
        model = GroupBuy
        fields = [
            "id",
            "name",
            "sku",
            "product",
            "list_price",
            "group_price",
            "group_size",
            "time_limit_hours",
            "starts_at",
            "ends_at",
            "per_person_limit",
            "joinable_groups",
        ]
        read_only_fields = fields


class MerchantGroupBuySerializer(serializers.ModelSerializer):
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())

    class Meta:
        model = GroupBuy
        fields = [
            "id",
            "name",
            "sku",
            "group_price",
            "group_size",
            "time_limit_hours",
            "starts_at",
            "ends_at",
            "per_person_limit",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]


class SeatCreateSerializer(serializers.Serializer):
    """Opening or joining a group: how many units and where they go."""

    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    recipient_name = serializers.CharField(max_length=64)
    recipient_phone = serializers.CharField(max_length=32)
    shipping_address = serializers.CharField(max_length=255)


class SeatSerializer(serializers.Serializer):
    """The seat taken: its group and the order to pay."""

    group = GroupSerializer(read_only=True)
    order = StoreOrderSerializer(read_only=True)
