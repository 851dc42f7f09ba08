from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.distributors.models import Distributor


def distributor_status_field() -> NamedChoiceField:
    return NamedChoiceField(
        Distributor.Status.choices, enum_name="DistributorStatusEnum", read_only=True
    )


class DistributorJoinSerializer(serializers.Serializer):
    invite_code = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="The inviter's code; without it the caller joins under the distributor they are "
        "bound to, or as a new root.",
    )


class DistributorBriefSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Distributor
        fields = ["id", "display_name", "invite_code"]
        read_only_fields = fields


class UplineMemberSerializer(DistributorBriefSerializer):
    relative_level = serializers.IntegerField(help_text="1 = the inviter, 2 = its inviter, 3 = …")

    class Meta(DistributorBriefSerializer.Meta):
        fields = ["relative_level", *DistributorBriefSerializer.Meta.fields]
        read_only_fields = fields


class DistributorProfileSerializer(serializers.ModelSerializer):
    """The caller's own distributor profile in a store."""

    display_name = serializers.CharField(source="user.display_name", read_only=True)
    status = distributor_status_field()
    level = serializers.IntegerField(read_only=True, help_text="Depth in the tree: 0 = a root.")
    share_url = serializers.URLField(read_only=True, help_text="The store, with ?ref=CODE.")
    qr_url = serializers.URLField(read_only=True, help_text="A QR code (PNG) of share_url.")
    upline = UplineMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Distributor
        fields = [
            "id",
            "display_name",
            "invite_code",
            "status",
            "level",
            "joined_at",
            "share_url",
            "qr_url",
            "upline",
        ]
        read_only_fields = fields


class ShareLinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["store", "product"])
    product = serializers.IntegerField(source="product_id", allow_null=True)
    name = serializers.CharField(help_text="The store's or the product's name.")
    url = serializers.URLField()
    qr_url = serializers.URLField()
    poster_url = serializers.URLField(help_text="A share poster (PNG) with the QR code.")


class ShareLinksSerializer(serializers.Serializer):
    invite_code = serializers.CharField()
    join_url = serializers.URLField(help_text="The invite link for new distributors.")
    join_qr_url = serializers.URLField()
    links = ShareLinkSerializer(many=True)


class ParentDistributorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Distributor
        fields = ["id", "invite_code"]
        read_only_fields = fields


class MerchantDistributorSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="user.display_name", read_only=True)
    parent = ParentDistributorSerializer(read_only=True, allow_null=True, help_text="The inviter.")
    status = distributor_status_field()
    level = serializers.IntegerField(read_only=True, help_text="Depth in the tree: 0 = a root.")

    class Meta:
        model = Distributor
        fields = [
            "id",
            "user",
            "display_name",
            "invite_code",
            "status",
            "level",
            "parent",
            "joined_at",
        ]
        read_only_fields = fields
