from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.commissions.models import CommissionPlan, CommissionRecord, Wallet
from apps.core.api_schema import NamedChoiceField
from apps.distributors.api.serializers import DistributorBriefSerializer


class EarningsSerializer(serializers.ModelSerializer):
    total = serializers.DecimalField(
        source="total_earned",
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="Frozen + available + withdrawn.",
    )

    class Meta:
        model = Wallet
        fields = ["frozen", "available", "withdrawn", "total"]
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
        total = sum((attrs[f"level{level}_percent"] for level in (1, 2, 3)), Decimal("0"))
        if total > attrs["max_total_percent"]:
            raise serializers.ValidationError(
                {
                    "max_total_percent": [
                        _("The levels add up to %(total)s%%, more than the cap of %(cap)s%%.")
                        % {"total": total, "cap": attrs["max_total_percent"]}
                    ]
                }
            )
        return attrs
