from rest_framework import serializers

from ..models import MemberLevel, PointsEntry


class MemberLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberLevel
        fields = ["id", "name", "min_spend", "discount_percent"]
        read_only_fields = fields


class MemberProfileSerializer(serializers.Serializer):
    level = MemberLevelSerializer(allow_null=True)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Off every price, as the member's level gives."
    )
    next_level = MemberLevelSerializer(allow_null=True)
    spend = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Paid for completed orders over the last ``period_days`` days, net of refunds.",
    )
    period_days = serializers.IntegerField()
    to_next_level = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Still to spend (null: top)."
    )
    progress_percent = serializers.IntegerField()
    points_balance = serializers.IntegerField()
    points_per_yuan_redeemed = serializers.IntegerField(help_text="Points worth ¥1 at checkout.")


class PointsEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = ["id", "kind", "points", "order", "expires_at", "note", "created_at"]
        read_only_fields = fields
