"""Share links of a store's pages: absolute URLs carrying ``?ref=CODE``, and their QR codes."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from apps.merchants.models import Merchant


def store_page_path(*, merchant: Merchant, product_id: int | None = None) -> str:
    if product_id is None:
        return reverse("storefront:catalogue", kwargs={"slug": merchant.slug})
    return reverse("storefront:product", kwargs={"slug": merchant.slug, "product_id": product_id})


def share_url(*, path: str, invite_code: str) -> str:
    return f"{settings.SITE_URL}{path}?{urlencode({'ref': invite_code})}"


def qr_url(*, merchant: Merchant, path: str) -> str:
    """The storefront serves the signed-in distributor's QR code of ``path`` (with their code)."""
    qr_path = reverse("storefront:distributor-qr", kwargs={"slug": merchant.slug})
    return f"{settings.SITE_URL}{qr_path}?{urlencode({'target': path})}"
