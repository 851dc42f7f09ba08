"""Reads of the material library, each a fixed number of queries for any number of rows."""

from django.db.models import Exists, OuterRef, QuerySet

from apps.distributors.models import Distributor

from .models import Material, MaterialRead


def materials_for_distributor(*, distributor: Distributor) -> "QuerySet[Material]":
    """The merchant's published materials, each annotated ``is_read`` for this distributor."""
    return (
        Material.objects.filter(merchant_id=distributor.merchant_id, is_published=True)
        .annotate(
            is_read=Exists(
                MaterialRead.objects.filter(material=OuterRef("pk"), distributor=distributor)
            )
        )
        .order_by("sort", "-published_at", "-id")
    )


def material_for_distributor(*, distributor: Distributor, material_id: int) -> Material | None:
    """A published material of the distributor's own merchant; None for any other id."""
    return materials_for_distributor(distributor=distributor).filter(pk=material_id).first()


def material_readers(*, material: Material) -> "QuerySet[MaterialRead]":
    return (
        MaterialRead.objects.filter(merchant_id=material.merchant_id, material=material)
        .select_related("distributor__user")
        .order_by("-last_read_at", "-id")
    )
