from decimal import Decimal

from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.refunds.models import RefundCase, RefundCaseLine, RefundStatusChange
from apps.refunds.services import MAX_REASON

CUSTOMER_KINDS = [
    (value, label) for value, label in RefundCase.Kind.choices if value != "unclaimed_payment"
]


def refund_status_field(**kwargs) -> NamedChoiceField:  # type: ignore[no-untyped-def]
    return NamedChoiceField(RefundCase.Status.choices, enum_name="RefundStatusEnum", **kwargs)


class RefundLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="order_line.product_name", read_only=True)
    sku_name = serializers.CharField(source="order_line.sku_name", read_only=True)

    class Meta:
        model = RefundCaseLine
        fields = ["id", "order_line", "product_name", "sku_name", "quantity", "amount"]
        read_only_fields = fields


class RefundHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = RefundStatusChange
        fields = ["from_status", "to_status", "reason", "created_at"]
        read_only_fields = fields


REFUND_FIELDS = [
    "id",
    "refund_no",
    "order",
    "order_number",
    "kind",
    "status",
    "reason",
    "merchant_reason",
    "return_goods",
    "goods_amount",
    "shipping_amount",
    "amount",
    "created_at",
    "decided_at",
    "refunded_at",
    "lines",
    "history",
]


class StoreRefundSerializer(serializers.ModelSerializer):
    """A refund case as its customer sees it."""

    refund_no = serializers.CharField(source="idempotency_key", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    kind = NamedChoiceField(RefundCase.Kind.choices, enum_name="RefundKindEnum", read_only=True)
    status = refund_status_field(read_only=True)
    lines = RefundLineSerializer(many=True, read_only=True)
    history = RefundHistorySerializer(many=True, read_only=True, source="status_changes")

    class Meta:
        model = RefundCase
        fields = REFUND_FIELDS
        read_only_fields = fields


class MerchantRefundSerializer(StoreRefundSerializer):
    """A refund case in the back office: with the customer and the provider's side."""

    customer = serializers.IntegerField(source="customer_id", read_only=True)

    class Meta:
        model = RefundCase
        fields = [
            *REFUND_FIELDS,
            "customer",
            "platform_fee_share",
            "supply_borne_by",
            "provider",
            "provider_refund_no",
            "stock_returned",
            "failure_reason",
        ]
        read_only_fields = fields


class RefundLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, required=False)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )


class RefundCreateSerializer(serializers.Serializer):
    """``order``: refund everything left (with shipping before it ships). ``line``: what is left of
    each listed line. ``quantity``: ``quantity`` units of each listed line. ``amount``: ``amount``
    of each listed line, goods kept."""

    order = serializers.IntegerField(min_value=1)
    kind = NamedChoiceField(CUSTOMER_KINDS, enum_name="RefundRequestKindEnum")
    reason = serializers.CharField(max_length=MAX_REASON)
    return_goods = serializers.BooleanField(default=False)
    lines = RefundLineInputSerializer(many=True, required=False, default=list)


class RefundDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, required=False, allow_blank=True)
    # Who bears the refund of lines a supplier shipped (left out: the case's, the supplier).
    supply_borne_by = serializers.ChoiceField(RefundCase.SupplyBorneBy.choices, required=False)


class RefundRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON)


class RefundStatusFilterSerializer(serializers.Serializer):
    status = refund_status_field(required=False)
