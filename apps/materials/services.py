"""Writes of the material library: publishing, and recording a distributor's read."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import DomainError, NotFound
from apps.distributors.models import Distributor

from .models import Material, MaterialRead

MATERIAL_FIELDS = ("kind", "title", "category", "body", "image", "file", "sort")


def material_check(*, material: Material) -> None:
    """An image material needs an image, a file material a file (an article needs text)."""
    if material.kind == Material.Kind.IMAGE and not material.image:
        raise DomainError(_("An image material needs an image."), code="material_needs_image")
    if material.kind == Material.Kind.FILE and not material.file:
        raise DomainError(_("A file material needs a file."), code="material_needs_file")
    if material.kind == Material.Kind.ARTICLE and not material.body.strip():
        raise DomainError(_("An article needs some text."), code="material_needs_body")


def material_set_published(*, material: Material, published: bool) -> bool:
    """Publish or unpublish; True when it changed. ``published_at`` is the latest publication."""
    if published:
        material_check(material=material)
        changed = Material.objects.filter(pk=material.pk, is_published=False).update(
            is_published=True, published_at=timezone.now(), updated_at=timezone.now()
        )
    else:
        changed = Material.objects.filter(pk=material.pk, is_published=True).update(
            is_published=False, updated_at=timezone.now()
        )
    material.refresh_from_db(fields=["is_published", "published_at", "updated_at"])
    return bool(changed)


def material_save(*, material: Material) -> Material:
    """Create or update (all fields): validated, and ``published_at`` kept consistent."""
    material_check(material=material)
    if material.is_published and material.published_at is None:
        material.published_at = timezone.now()
    material.full_clean()
    material.save()
    return material


def material_read_record(*, material: Material, distributor: Distributor) -> MaterialRead:
    """Count one read by ``distributor``: the first creates the row, later ones add to it.

    Safe under concurrency: the row is unique per (material, distributor); a concurrent first
    read that loses the insert falls back to the counting update.
    """
    if material.merchant_id != distributor.merchant_id or not material.is_published:
        raise NotFound(_("No such material."), code="unknown_material")
    now = timezone.now()
    reads = MaterialRead.objects.filter(material=material, distributor=distributor)
    if not reads.update(read_count=F("read_count") + 1, last_read_at=now):
        try:
            with transaction.atomic():
                return MaterialRead.objects.create(
                    merchant_id=material.merchant_id,
                    material=material,
                    distributor=distributor,
                    first_read_at=now,
                    last_read_at=now,
                    read_count=1,
                )
        except IntegrityError:
            reads.update(read_count=F("read_count") + 1, last_read_at=now)
    return reads.get()
