from django.urls import reverse
from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField
from apps.materials.models import Material, MaterialRead


def _kind_field(**kwargs) -> NamedChoiceField:  # type: ignore[no-untyped-def]
    return NamedChoiceField(Material.Kind.choices, enum_name="MaterialKindEnum", **kwargs)


class DistributorMaterialSerializer(serializers.ModelSerializer):
    """A published material as a distributor sees it."""

    kind = _kind_field(read_only=True)
    is_read = serializers.BooleanField(read_only=True, help_text="The caller has opened it.")
    download_url = serializers.SerializerMethodField(
        help_text="The file or image (signed-in distributors of this store); null if none."
    )

    class Meta:
        model = Material
        fields = [
            "id",
            "kind",
            "title",
            "category",
            "body",
            "published_at",
            "is_read",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, material: Material) -> str | None:
        if not (material.file or material.image):
            return None
        return reverse(
            "storefront:distributor-material-file",
            kwargs={"slug": self.context["merchant"].slug, "material_id": material.pk},
        )


class MaterialReadSerializer(serializers.ModelSerializer):
    distributor_name = serializers.CharField(source="distributor.user.display_name", read_only=True)

    class Meta:
        model = MaterialRead
        fields = [
            "id",
            "material",
            "distributor",
            "distributor_name",
            "first_read_at",
            "last_read_at",
            "read_count",
        ]
        read_only_fields = fields


class MerchantMaterialSerializer(serializers.ModelSerializer):
    """A material in the back office, with its read statistics."""

    kind = _kind_field(required=False)
    reader_count = serializers.IntegerField(read_only=True)
    read_total = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Material
        fields = [
            "id",
            "kind",
            "title",
            "category",
            "body",
            "image",
            "file",
            "sort",
            "is_published",
            "published_at",
            "created_at",
            "updated_at",
            "reader_count",
            "read_total",
        ]
        read_only_fields = ["id", "published_at", "created_at", "updated_at"]
