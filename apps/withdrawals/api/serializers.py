from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.distributors.api.serializers import DistributorBriefSerializer
from apps.withdrawals.models import Withdrawal, WithdrawalSettings, WithdrawalStatusChange
from apps.withdrawals.services import (
    MAX_ACCOUNT_LENGTH,
    MAX_REASON_LENGTH,
    WithdrawalSettingsInvalid,
    withdrawal_settings_check,
)

STATUS_CHOICES = Withdrawal.Status.choices


class WithdrawalStatusChangeSerializer(serializers.ModelSerializer):
    from_status = NamedChoiceField(
        [("", ""), *STATUS_CHOICES], enum_name="WithdrawalFromStatusEnum", read_only=True
    )
    to_status = NamedChoiceField(STATUS_CHOICES, enum_name="WithdrawalStatusEnum", read_only=True)

    class Meta:
        model = WithdrawalStatusChange
        fields = ["from_status", "to_status", "reason", "created_at"]
        read_only_fields = fields


class WithdrawalSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(STATUS_CHOICES, enum_name="WithdrawalStatusEnum", read_only=True)
    history = WithdrawalStatusChangeSerializer(source="status_changes", many=True, read_only=True)

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "amount",
            "fee",
            "tax",
            "net",
            "status",
            "reason",
            "payout_provider",
            "payout_account",
            "provider_reference",
            "created_at",
            "reviewed_at",
            "finished_at",
            "history",
        ]
        read_only_fields = fields


class MerchantWithdrawalSerializer(WithdrawalSerializer):
    distributor = DistributorBriefSerializer(read_only=True, allow_null=True)
    supplier = serializers.IntegerField(source="supplier_id", read_only=True, allow_null=True)

    class Meta(WithdrawalSerializer.Meta):
        fields = [
            *WithdrawalSerializer.Meta.fields,
            "distributor",
            "supplier",
            "reviewer",
            "idempotency_key",
        ]
        read_only_fields = fields


class WithdrawalRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Gross amount taken from the available balance."
    )
    account = serializers.CharField(
        max_length=MAX_ACCOUNT_LENGTH, help_text="Where the payout goes (e.g. an Alipay account)."
    )
    request_token = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Optional, chosen by the client: sent again, it returns the same withdrawal "
        "instead of making a second one.",
    )


class SupplierWithdrawalSerializer(WithdrawalSerializer):
    """A supplier's withdrawal of what one store owes it."""

    store = serializers.IntegerField(source="merchant_id", read_only=True)

    class Meta(WithdrawalSerializer.Meta):
        fields = [*WithdrawalSerializer.Meta.fields, "store"]
        read_only_fields = fields


class SupplierWithdrawalRequestSerializer(WithdrawalRequestSerializer):
    store = serializers.IntegerField(
        min_value=1, help_text="The store whose debt to the supplier is withdrawn."
    )


class SupplierBalanceSerializer(serializers.Serializer):
    """The supplier's balances with one store (its wallet there)."""

    store = serializers.IntegerField(source="merchant_id", read_only=True)
    store_name = serializers.CharField(source="merchant.name", read_only=True)
    frozen = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    available = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    withdrawing = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    withdrawn = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)


class WithdrawalQuoteParamsSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class WithdrawalQuoteSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    fee = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    tax = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    net = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class WithdrawalRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH)


class WithdrawalSettingsSerializer(serializers.ModelSerializer):
    payout_provider = NamedChoiceField(
        WithdrawalSettings.PayoutProvider.choices, enum_name="PayoutProviderEnum"
    )
    # null until the merchant first saves them (the defaults are shown)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = WithdrawalSettings
        fields = [
            "minimum_amount",
            "fee_percent",
            "fee_free_amount",
            "tax_percent",
            "tax_threshold",
            "review_required",
            "payout_provider",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            name: {"required": True}
            for name in (
                "minimum_amount",
                "fee_percent",
                "fee_free_amount",
                "tax_percent",
                "tax_threshold",
                "review_required",
            )
        }

    def validate(self, attrs: dict) -> dict:
        """The service's own check, answered per field like the other input errors."""
        try:
            withdrawal_settings_check(
                **{name: value for name, value in attrs.items() if name != "review_required"}
            )
        except WithdrawalSettingsInvalid as error:
            raise serializers.ValidationError({error.field: [error.message]}) from error
        return attrs
