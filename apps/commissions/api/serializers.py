from rest_framework import serializers

from apps.commissions.models import CommissionPlan, CommissionRecord, Wallet
from apps.commissions.services import CommissionPlanInvalid, commission_plan_check
from apps.core.api_schema import NamedChoiceField
from apps.distributors.api.serializers import DistributorBriefSerializer


class EarningsSerializer(serializers.ModelSerializer):
    total = serializers.DecimalField(
        source="total_earned",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="Frozen + available + being withdrawn + withdrawn.",
    )

    class Meta:
        model = Wallet
        fields = ["frozen", "available", "withdrawing", "withdrawn", "total"]
        read_only_fields = fields


class CommissionRecordSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    product_name = serializers.CharField(source="order_line.product_name", read_only=True)
    sku_name = serializers.CharField(source="order_line.sku_name", read_only=True)
    status = NamedChoiceField(
        CommissionRecord.Status.choices, enum_name="CommissionRecordStatusEnum", read_only=True
    )

    class Meta:
        model = CommissionRecord
        fields = [
            "id",
            "order",
            "order_number",
            "order_line",
            "product_name",
            "sku_name",
            "level",
            "base_amount",
            "rate_percent",
            "amount",
            "status",
            "release_at",
            "created_at",
            "released_at",
        ]
        read_only_fields = fields


class MerchantCommissionRecordSerializer(CommissionRecordSerializer):
    beneficiary = DistributorBriefSerializer(read_only=True)

    class Meta(CommissionRecordSerializer.Meta):
        fields = [*CommissionRecordSerializer.Meta.fields, "beneficiary"]
        read_only_fields = fields


class CommissionPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionPlan
        fields = [
            "level1_percent",
            "level2_percent",
            "level3_percent",
            "max_total_percent",
            "freeze_days",
            "is_enabled",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "level1_percent": {"required": True},
            "level2_percent": {"required": True},
            "level3_percent": {"required": True},
            "max_total_percent": {"required": True},
            "freeze_days": {"required": True, "min_value": 0, "max_value": 365},
            "is_enabled": {"required": True},
        }

    def validate(self, attrs: dict) -> dict:
        """The service's own check, answered per field like the other input errors."""
        try:
            commission_plan_check(**{k: v for k, v in attrs.items() if k != "is_enabled"})
        except CommissionPlanInvalid as error:
            raise serializers.ValidationError({error.field: [error.message]}) from error
        return attrs
