"""What management commands share about merchants."""

from django.core.management.base import CommandError

from .models import Merchant


def merchant_id_option(slug: str | None) -> int | None:
    """The id of the merchant a command's ``--merchant SLUG`` names; None when no slug is given.

    An unknown slug is the command's error (one readable line, exit status 1)."""
    if not slug:
        return None
    merchant_id = Merchant.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if merchant_id is None:
        raise CommandError(f"No merchant has the slug “{slug}”.")
    return merchant_id
