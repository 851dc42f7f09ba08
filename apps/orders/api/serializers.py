from typing import cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.core.personal import phone_mask
from apps.marketing.pricing import BEST_COUPON
from apps.merchants.selectors import staff_may_see_phones
from apps.orders.models import CartItem, Order, OrderLine, OrderLineAdjustment, OrderStatusChange
from apps.orders.selectors import cart_item_line_total
from apps.orders.services import MAX_LINE_QUANTITY
from apps.products.models import Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField

# --- Cart -------------------------------------------------------------------------------------


class CartItemSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="sku.product_id", read_only=True)
    product_name = serializers.CharField(source="sku.product.name", read_only=True)
    sku_name = serializers.CharField(source="sku.name", read_only=True)
    unit_price = serializers.SerializerMethodField(
        help_text="The price in force: the micro-shop's price or the store's."
    )
    shop = serializers.CharField(
        source="agency_distributor.invite_code",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Invite code of the micro-shop the line was added from.",
    )
    line_total = serializers.SerializerMethodField()
    on_sale = serializers.SerializerMethodField()

    class Meta:
        model = CartItem
        fields = [
            "id",
            "sku",
            "product",
            "product_name",
            "sku_name",
            "unit_price",
            "quantity",
            "line_total",
            "on_sale",
            "shop",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_unit_price(self, item: CartItem) -> str:
        return str(getattr(item, "unit_price", item.sku.price))

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_line_total(self, item: CartItem) -> str:
        return str(cart_item_line_total(item))

    def get_on_sale(self, item: CartItem) -> bool:
        return item.sku.is_active and item.sku.product.is_active


class SavingSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=OrderLineAdjustment.Step.choices)
    # A declared field named like Field.label: the serializer's metaclass moves declared fields
    # off the class, so the stubs' clash with the attribute is not real.
    label = serializers.CharField()  # type: ignore[assignment]
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class CouponOptionSerializer(serializers.Serializer):
    grant_id = serializers.IntegerField(help_text="Pass as ``coupon`` when placing the order.")
    name = serializers.CharField()
    discount = serializers.DecimalField(max_digits=14, decimal_places=2)
    valid_until = serializers.DateTimeField()


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    quantity = serializers.IntegerField(help_text="Units in the cart.")
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Goods at their prices, before discounts."
    )
    payable = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="What checkout would charge now, with the best coupon and no points.",
    )
    savings = serializers.SerializerMethodField()
    coupon_options = serializers.SerializerMethodField()
    coupon = serializers.SerializerMethodField(help_text="The coupon grant proposed.")
    points_balance = serializers.SerializerMethodField()
    points_max = serializers.SerializerMethodField(help_text="The most points usable on it.")

    @extend_schema_field(SavingSerializer(many=True))
    def get_savings(self, summary) -> list[dict]:  # type: ignore[no-untyped-def]
        if summary.priced is None:
            return []
        rows = [
            {"step": step.value, "label": label, "amount": amount}
            for step, label, amount in summary.priced.savings()
        ]
        # Through the serializer, so amounts are strings like every other amount (not floats).
        return cast("list[dict]", SavingSerializer(rows, many=True).data)

    @extend_schema_field(CouponOptionSerializer(many=True))
    def get_coupon_options(self, summary) -> list[dict]:  # type: ignore[no-untyped-def]
        options = summary.priced.coupon_options if summary.priced else []
        # many=True makes a ListSerializer, whose data is a list; the stubs type it as a dict.
        return cast("list[dict]", CouponOptionSerializer(options, many=True).data)

    def get_coupon(self, summary) -> int | None:  # type: ignore[no-untyped-def]
        return summary.priced.coupon_grant_id if summary.priced else None

    def get_points_balance(self, summary) -> int:  # type: ignore[no-untyped-def]
        return summary.priced.points_balance if summary.priced else 0

    def get_points_max(self, summary) -> int:  # type: ignore[no-untyped-def]
        return summary.priced.points_max if summary.priced else 0


SHOP_HELP = (
    "Invite code of the distributor whose micro-shop this is bought in (agency mode): priced at "
    "their resale price in force when the order is placed. Prices are never taken from requests."
)


class CartItemCreateSerializer(serializers.Serializer):
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    shop = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text=SHOP_HELP
    )


class CartItemQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


# --- Orders -----------------------------------------------------------------------------------


class OrderLineAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLineAdjustment
        fields = ["step", "label", "amount"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    adjustments = OrderLineAdjustmentSerializer(
        many=True, read_only=True, help_text="What each pricing step took off this line."
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "product",
            "product_name",
            "sku_name",
            "unit_price",
            "quantity",
            "discount_amount",
            "paid_amount",
            "flash_sale",
            "adjustments",
        ]
        read_only_fields = fields


class MerchantOrderLineSerializer(serializers.ModelSerializer):
    """A line with its agency snapshot (the micro-shop's distributor and their unit cost)."""

    class Meta:
        model = OrderLine
        fields = [*OrderLineSerializer.Meta.fields, "agency_distributor", "agency_unit_cost"]
        read_only_fields = fields


class OrderStatusChangeSerializer(serializers.ModelSerializer):
    from_status = NamedChoiceField(
        [("", "-"), *Order.Status.choices], enum_name="OrderStatusOrBlankEnum", read_only=True
    )
    to_status = NamedChoiceField(Order.Status.choices, enum_name="OrderStatusEnum", read_only=True)

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "actor", "reason", "created_at"]
        read_only_fields = fields


ORDER_FIELDS = [
    "id",
    "number",
    "status",
    "goods_amount",
    "discount_amount",
    "shipping_amount",
    "payable_amount",
    "price_channel",
    "recipient_name",
    "recipient_phone",
    "shipping_address",
    "note",
    "shipping_carrier",
    "tracking_number",
    "created_at",
    "expires_at",
    "paid_at",
    "shipped_at",
    "completed_at",
    "cancelled_at",
    "lines",
]


def order_status_field(**kwargs) -> NamedChoiceField:  # type: ignore[no-untyped-def]
    return NamedChoiceField(Order.Status.choices, enum_name="OrderStatusEnum", **kwargs)


class StoreOrderSerializer(serializers.ModelSerializer):
    """An order as its customer sees it."""

    status = order_status_field(read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ORDER_FIELDS
        read_only_fields = fields


class OrderLineInputSerializer(serializers.Serializer):
    sku = MerchantScopedPrimaryKeyRelatedField(queryset=Sku.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class DiscountChoiceSerializer(serializers.Serializer):
    """The coupon and points a customer chooses for a cart or an order."""

    coupon = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=20,
        help_text='A coupon grant id of the caller\'s; "none" for no coupon; empty: the best usable.',
    )
    points = serializers.IntegerField(
        required=False, default=0, min_value=0, help_text="Points to spend as money off."
    )

    def validate_coupon(self, value: str) -> object:
        value = value.strip()
        if value == "":
            return BEST_COUPON
        if value == "none":
            return None
        if not value.isdigit():
            raise serializers.ValidationError('A coupon id, "none", or empty.')
        return int(value)


class OrderCreateSerializer(DiscountChoiceSerializer):
    """Without ``lines`` the order is placed from the cart (which is emptied)."""

    recipient_name = serializers.CharField(max_length=64)
    recipient_phone = serializers.CharField(max_length=32)
    shipping_address = serializers.CharField(max_length=255)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lines = OrderLineInputSerializer(many=True, required=False, allow_empty=False)
    shop = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="With ``lines``: " + SHOP_HELP,
    )
    expected_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="The amount payable the customer was shown; if it changed since, 409 "
        "prices_changed and nothing is placed.",
    )


class CustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class MerchantOrderSerializer(serializers.ModelSerializer):
    """An order as the back office sees it: with customer, upline snapshot and history."""

    status = order_status_field(read_only=True)
    customer = CustomerSerializer(read_only=True)
    lines = MerchantOrderLineSerializer(many=True, read_only=True)
    history = OrderStatusChangeSerializer(many=True, read_only=True, source="status_changes")

    class Meta:
        model = Order
        fields = [
            *ORDER_FIELDS,
            "customer",
            "distributor",
            "level2_distributor",
            "level3_distributor",
            "commission_status",
            "history",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Order) -> dict:
        """The recipient's phone masked for staff without ``merchants.view_phone_numbers``."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not staff_may_see_phones(request.user):
            data["recipient_phone"] = phone_mask(instance.recipient_phone)
        return data


class OrderShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=64)
    tracking_number = serializers.CharField(max_length=64)


class OrderStatusFilterSerializer(serializers.Serializer):
    status = NamedChoiceField(Order.Status.choices, enum_name="OrderStatusEnum", required=False)
