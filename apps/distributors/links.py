"""A distributor's share links: absolute URLs (``settings.SITE_URL``) carrying ``?ref=CODE``.

The one place these URLs are built, for the storefront's pages and for the API alike.
"""

import posixpath
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.urls import reverse

from apps.merchants.models import Merchant

from .selectors import products_to_share


@dataclass(frozen=True)
class ShareLink:
    kind: str  # "store" or "product"
    product_id: int | None
    name: str  # the store's or the product's name
    path: str  # the page, relative to SITE_URL
    url: str  # the page with ?ref=CODE
    qr_url: str  # a QR code (PNG) of ``url``, served to the signed-in distributor
    poster_url: str  # a share poster (PNG) with that QR code, served to the signed-in distributor


def store_page_path(*, merchant: Merchant, product_id: int | None = None) -> str:
    if product_id is None:
        return reverse("storefront:catalogue", kwargs={"slug": merchant.slug})
    return reverse("storefront:product", kwargs={"slug": merchant.slug, "product_id": product_id})


def _absolute_url(path: str, query: list[tuple[str, str]]) -> str:
    return f"{settings.SITE_URL}{path}?{urlencode(query)}"


def share_url(*, path: str, invite_code: str) -> str:
    return _absolute_url(path, [("ref", invite_code)])


def qr_url(*, merchant: Merchant, path: str) -> str:
    """The storefront serves the signed-in distributor's QR code of ``path`` (with their code)."""
    qr_path = reverse("storefront:distributor-qr", kwargs={"slug": merchant.slug})
    return _absolute_url(qr_path, [("target", path)])


def coupon_path(*, merchant: Merchant, coupon_id: int) -> str:
    return reverse("storefront:coupon", kwargs={"slug": merchant.slug, "coupon_id": coupon_id})


def coupon_share_url(*, merchant: Merchant, coupon_id: int, invite_code: str) -> str:
    """A distributor's coupon link: claiming through it binds the consumer to them."""
    return share_url(
        path=coupon_path(merchant=merchant, coupon_id=coupon_id), invite_code=invite_code
    )


def join_path(*, merchant: Merchant) -> str:
    return reverse("storefront:distributor-join", kwargs={"slug": merchant.slug})


def join_url(*, merchant: Merchant, invite_code: str) -> str:
    """The page where new distributors join under the one whose code this is."""
    return share_url(path=join_path(merchant=merchant), invite_code=invite_code)


def poster_url(*, merchant: Merchant, product_id: int | None = None) -> str:
    """The signed-in distributor's share poster (PNG) of a product, or of the store."""
    if product_id is None:
        path = reverse("storefront:distributor-store-poster", kwargs={"slug": merchant.slug})
    else:
        path = reverse(
            "storefront:distributor-product-poster",
            kwargs={"slug": merchant.slug, "product_id": product_id},
        )
    return f"{settings.SITE_URL}{path}"


def _link(
    *, merchant: Merchant, invite_code: str, name: str, product_id: int | None = None
) -> ShareLink:
    path = store_page_path(merchant=merchant, product_id=product_id)
    return ShareLink(
        kind="store" if product_id is None else "product",
        product_id=product_id,
        name=name,
        path=path,
        url=share_url(path=path, invite_code=invite_code),
        qr_url=qr_url(merchant=merchant, path=path),
        poster_url=poster_url(merchant=merchant, product_id=product_id),
    )


def store_link(*, merchant: Merchant, invite_code: str) -> ShareLink:
    return _link(merchant=merchant, invite_code=invite_code, name=merchant.name)


def share_links(*, merchant: Merchant, invite_code: str) -> list[ShareLink]:
    """The store's link, then one per product on sale (``products_to_share``): one query."""
    return [store_link(merchant=merchant, invite_code=invite_code)] + [
        _link(merchant=merchant, invite_code=invite_code, name=product.name, product_id=product.pk)
        for product in products_to_share(merchant=merchant)
    ]


def qr_target_url(*, merchant: Merchant, target: str, invite_code: str) -> str | None:
    """SITE_URL + ``target`` + ``ref=CODE``; None unless ``target`` is a path inside the store.

    Any ``ref`` already in ``target`` is replaced; its other query parameters are kept.
    """
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. "//[/": an unbalanced IPv6 host is no path of the store either
        return None
    if parts.scheme or parts.netloc or "\\" in target or not parts.path.startswith("/"):
        return None
    normalized = posixpath.normpath(parts.path) + ("/" if parts.path.endswith("/") else "")
    if not normalized.startswith(f"/s/{merchant.slug}/"):
        return None
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "ref"]
    return _absolute_url(normalized, [*query, ("ref", invite_code)])


def micro_shop_url(*, merchant: Merchant, invite_code: str) -> str:
    """The distributor's micro-shop (微店, their own resale prices in agency mode), with ?ref=CODE."""
    path = reverse("storefront:micro-shop", kwargs={"slug": merchant.slug, "code": invite_code})
    return share_url(path=path, invite_code=invite_code)
