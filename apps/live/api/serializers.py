from rest_framework import serializers

from apps.orders.api.serializers import OrderLineInputSerializer
from apps.products.models import Product, Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField

from ..models import LivePrice, LiveRoom, LiveRoomProduct


class LiveRoomProductSerializer(serializers.ModelSerializer):
    product = MerchantScopedPrimaryKeyRelatedField(queryset=Product.objects.all())

    class Meta:
        model = LiveRoomProduct
        fields = ["id", "product", "position"]


class LivePriceSerializer(serializers.ModelSerializer):
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())

    class Meta:
        model = LivePrice
        fields = ["id", "sku", "price"]


class LiveRoomSerializer(serializers.ModelSerializer):
    """A room as its merchant's staff see it (products and live-only prices included)."""

    products = LiveRoomProductSerializer(many=True, read_only=True)
    prices = LivePriceSerializer(many=True, read_only=True)
    pinned_product = serializers.IntegerField(
        source="pinned.product_id", read_only=True, allow_null=True
    )

    class Meta:
        model = LiveRoom
        fields = [
            "id",
            "title",
            "description",
            "starts_at",
            "stream_url",
            "replay_url",
            "banned_words",
            "status",
            "started_at",
            "ended_at",
            "pinned_product",
            "products",
            "prices",
        ]
        read_only_fields = ["status", "started_at", "ended_at"]


class StoreLiveRoomSerializer(serializers.ModelSerializer):
    """A room as viewers see it: live-only prices only while it is live."""

    pinned_product = serializers.IntegerField(
        source="pinned.product_id", read_only=True, allow_null=True
    )
    socket = serializers.SerializerMethodField()
    replay_url = serializers.SerializerMethodField()

    class Meta:
        model = LiveRoom
        fields = [
            "id",
            "title",
            "description",
            "starts_at",
            "status",
            "stream_url",
            "replay_url",
            "pinned_product",
            "socket",
        ]

    def get_socket(self, room: LiveRoom) -> str:
        return f"/ws/s/{room.merchant.slug}/live/{room.pk}/"

    def get_replay_url(self, room: LiveRoom) -> str:
        return room.replay_url if room.status == LiveRoom.Status.ENDED else ""


class PinSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)


class MuteSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1)


class LiveOrderCreateSerializer(serializers.Serializer):
    """An order placed from the room: ``lines`` of the room's SKUs, at live-only prices while the
    room is live."""

    recipient_name = serializers.CharField(max_length=64)
    recipient_phone = serializers.CharField(max_length=32)
    shipping_address = serializers.CharField(max_length=255)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    expected_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="The total the viewer was shown; if prices changed since (the room ended, so "
        "live-only prices no longer apply), 409 prices_changed and nothing is placed.",
    )


class FiguresByDistributorSerializer(serializers.Serializer):
    distributor_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    orders = serializers.IntegerField()
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class RoomFiguresSerializer(serializers.Serializer):
    viewers = serializers.IntegerField()
    peak = serializers.IntegerField()
    unique_viewers = serializers.IntegerField()
    likes = serializers.IntegerField()
    orders = serializers.IntegerField()
    buyers = serializers.IntegerField()
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    conversion_percent = serializers.DecimalField(max_digits=6, decimal_places=1)
    by_distributor = FiguresByDistributorSerializer(many=True)
