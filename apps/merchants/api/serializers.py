from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.merchants.models import MerchantApplication, slug_validator


class MerchantApplicationCreateSerializer(serializers.Serializer):
    """商家入驻: the applicant's future sign-in and the store they want to open."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    store_name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=50, validators=[slug_validator])
    contact_name = serializers.CharField(max_length=64)
    contact_phone = serializers.CharField(max_length=32)
    contact_email = serializers.EmailField(max_length=254)
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value


class MerchantApplicationSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        MerchantApplication.Status.choices,
        enum_name="MerchantApplicationStatusEnum",
        read_only=True,
    )

    class Meta:
        model = MerchantApplication
        fields = ["id", "store_name", "slug", "status", "created_at"]
        read_only_fields = fields
