"""A distributor signs in, opens the share page and downloads a product poster in a real Chromium:
the file is a 750 × 1200 PNG whose QR code is the code of their product link (?ref=CODE)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache

from apps.distributors import posters
from tests.factories import ProductFactory, SkuFactory
from tests.support.posters import assert_poster_with_qr_of

from .test_purchase_journey import sign_in

pytestmark = pytest.mark.browser


def test_distributor_downloads_a_product_poster(live_server, site_url, new_page, merchant, chain):
    cache.clear()
    product = ProductFactory(merchant=merchant, name="西湖龙井")
    SkuFactory(product=product, price=Decimal("128.00"), stock=5)
    d4 = chain[3]
    page = new_page()
    sign_in(page, site_url, d4.user, f"/s/{merchant.slug}/d/share/")

    with page.expect_download() as downloading:
        page.locator(f'[data-test="download-poster-{product.pk}"]').click()
    download = downloading.value

    assert download.suggested_filename == f"poster-{merchant.slug}-{product.pk}.png"
    data = Path(download.path()).read_bytes()
    image = assert_poster_with_qr_of(
        data, f"{site_url}/s/{merchant.slug}/p/{product.pk}/?ref={d4.invite_code}"
    )
    assert image.size == (posters.POSTER_WIDTH, posters.POSTER_HEIGHT)
