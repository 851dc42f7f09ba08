from rest_framework import serializers

from apps.commissions.models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord
from apps.commissions.services import CommissionPlanInvalid, commission_plan_check
from apps.core.api_schema import NamedChoiceField
from apps.distributors.api.serializers import DistributorBriefSerializer
from apps.ledger.models import Wallet
from apps.products.models import Product, Sku
from apps.tenancy.api import MerchantScopedPrimaryKeyRelatedField


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
    kind = NamedChoiceField(
        CommissionRecord.Kind.choices, enum_name="CommissionRecordKindEnum", read_only=True
    )
    rule = NamedChoiceField(
        CommissionRecord.Rule.choices, enum_name="CommissionRecordRuleEnum", read_only=True
    )
    explanation = serializers.JSONField(
        read_only=True,
        help_text="How the amount was reached: rule, source id, value, base, quantity, bonus, "
        "cap trimming.",
    )
    explanation_text = serializers.CharField(
        read_only=True, help_text="The explanation as one sentence in the caller's language."
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
            "kind",
            "rule",
            "base_amount",
            "quantity",
            "rate_percent",
            "bonus_percent",
            "unit_amount",
            "amount",
            "explanation",
            "explanation_text",
            "reversed_amount",
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


class CommissionOverrideSerializer(serializers.ModelSerializer):
    product = MerchantScopedPrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True
    )
    sku = MerchantScopedPrimaryKeyRelatedField(
        queryset=Sku.objects.all(), required=False, allow_null=True
    )
    mode = NamedChoiceField(CommissionOverride.Mode.choices, enum_name="CommissionOverrideModeEnum")

    class Meta:
        model = CommissionOverride
        fields = [
            "id",
            "product",
            "sku",
            "mode",
            "level1_value",
            "level2_value",
            "level3_value",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        # The service checks the whole row (one target, percents ≤ 100, no duplicate).
        validators: list = []


class BonusTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = BonusTier
        fields = ["id", "monthly_sales_threshold", "extra_percent"]
        read_only_fields = ["id"]
        validators: list = []


class BonusTierProposalSerializer(serializers.Serializer):
    monthly_sales_threshold = serializers.DecimalField(max_digits=12, decimal_places=2)
    extra_percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class CommissionSimulationRequestSerializer(serializers.Serializer):
    """The proposed plan; a missing setting keeps the current one, missing ``bonus_tiers`` keeps
    the current bonus tiers."""

    level1_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    level2_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    level3_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    max_total_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    is_enabled = serializers.BooleanField(required=False)
    bonus_tiers = BonusTierProposalSerializer(many=True, required=False)
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class ComparisonSerializer(serializers.Serializer):
    actual = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Paid.")
    proposed = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Would pay.")
    difference = serializers.DecimalField(max_digits=14, decimal_places=2)


class LevelComparisonSerializer(ComparisonSerializer):
    level = serializers.IntegerField()


class TierComparisonSerializer(ComparisonSerializer):
    tier_id = serializers.IntegerField(allow_null=True)
    tier_name = serializers.CharField()


class CommissionSimulationSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    orders = serializers.IntegerField()
    total = ComparisonSerializer()
    levels = LevelComparisonSerializer(many=True)
    tiers = TierComparisonSerializer(many=True)
