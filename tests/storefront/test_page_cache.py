"""Signed-out store pages come from the cache (apps/storefront/page_cache.py)."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from apps.products.services import product_update, sku_update
from tests.factories import ProductFactory, SkuFactory
from tests.support.cursors import counting_cursors

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def product(merchant):
    product = ProductFactory(merchant=merchant, name="Longjing")
    SkuFactory(product=product, name="50g", price="128.00", stock=5)
    return product


@pytest.fixture
def product_url(merchant, product):
    return reverse("storefront:product", kwargs={"slug": merchant.slug, "product_id": product.pk})


@pytest.fixture
def catalogue_url(merchant):
    return reverse("storefront:catalogue", kwargs={"slug": merchant.slug})


def test_a_second_signed_out_visit_costs_no_query(
    client, product, product_url, catalogue_url, django_assert_num_queries
):
    client.get(product_url)
    client.get(catalogue_url)

    with django_assert_num_queries(0):
        product_page = client.get(product_url)
    with django_assert_num_queries(0):
        catalogue = client.get(catalogue_url)

    assert product_page.status_code == 200
    assert "Longjing" in product_page.content.decode()
    assert catalogue.status_code == 200
    assert f'data-test="product-{product.pk}"' in catalogue.content.decode()


def test_each_visitor_gets_a_token_of_their_own_that_works(product_url):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page, second_page = first.get(product_url), second.get(product_url)

    first_tokens = set(TOKEN.findall(first_page.content.decode()))
    second_tokens = set(TOKEN.findall(second_page.content.decode()))
    first_post = first.post(product_url, {"csrfmiddlewaretoken": first_tokens.pop()})
    crossed = second.post(product_url, {"csrfmiddlewaretoken": "x" * 64})

    assert len(first_tokens | second_tokens) == 1  # each page carries one token everywhere
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert first_post.status_code == 302  # accepted, then off to sign in
    assert first_post["Location"].startswith(reverse("accounts:login"))
    assert crossed.status_code == 403


def test_an_unchanged_page_answers_304_to_a_browser_holding_it(client, product_url):
    page = client.get(product_url)

    again = client.get(product_url, headers={"If-None-Match": page["ETag"]})
    other_cookie = Client()
    other_cookie.cookies["csrftoken"] = "a" * 32
    other = other_cookie.get(product_url, headers={"If-None-Match": page["ETag"]})

    assert page["Cache-Control"] == "private, no-cache"
    assert page.has_header("Last-Modified")
    assert again.status_code == 304
    assert again.content == b""
    # The ETag names the visitor's CSRF cookie too: a page held under another cookie is resent.
    assert other.status_code == 200


def test_a_product_or_sku_edit_shows_at_once(
    client, merchant, product, product_url, catalogue_url, django_capture_on_commit_callbacks
):
    client.get(product_url)
    client.get(catalogue_url)
    etag = client.get(product_url)["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        product_update(merchant=merchant, product_id=product.pk, name="Biluochun")
    with django_capture_on_commit_callbacks(execute=True):
        sku_update(merchant=merchant, sku_id=product.skus.get().pk, price="99.00")
    page = client.get(product_url, headers={"If-None-Match": etag})
    catalogue = client.get(catalogue_url)

    assert page.status_code == 200
    assert "Biluochun" in page.content.decode()
    assert "¥99.00" in page.content.decode()
    assert "Biluochun" in catalogue.content.decode()


def test_a_cached_page_lives_at_most_the_configured_seconds(
    client, product, product_url, monkeypatch
):
    from django.core.cache import cache

    timeouts = []
    real_set = cache.set
    monkeypatch.setattr(
        cache,
        "set",
        lambda key, value, timeout: timeouts.append(timeout) or real_set(key, value, timeout),
    )
    with override_settings(FENXIAO_PAGE_CACHE_SECONDS=7):
        client.get(product_url)

    assert timeouts == [7]


def test_signed_in_visitors_get_their_own_page(client, customer, product, product_url):
    Client().get(product_url)  # cached for signed-out visitors
    client.force_login(customer)

    page = client.get(product_url).content.decode()

    assert 'data-test="logout"' in page
    assert 'data-test="login-link"' not in page


def test_a_share_link_is_rendered_live_and_its_visit_counted(client, merchant, chain, product_url):
    from apps.dashboard.models import ShareVisit

    client.get(product_url)
    code = chain[3].invite_code

    page = client.get(product_url + f"?ref={code}").content.decode()

    assert f"%3Fref%3D{code}" in page  # the sign-in link's next=, only in a live page
    assert ShareVisit.objects.filter(merchant=merchant, distributor=chain[3]).count() == 1


def test_each_language_has_its_own_page(client, product, product_url):
    english = client.get(product_url, headers={"Accept-Language": "en"}).content.decode()
    chinese = Client().get(product_url, headers={"Accept-Language": "zh-hans"}).content.decode()

    assert 'lang="en"' in english
    assert 'lang="zh-hans"' in chinese


def test_another_stores_product_is_still_absent(client, other_merchant, product, product_url):
    client.get(product_url)  # cached in its own store
    url = reverse(
        "storefront:product", kwargs={"slug": other_merchant.slug, "product_id": product.pk}
    )

    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 404


def test_an_unknown_store_is_absent(client, db):
    url = reverse("storefront:catalogue", kwargs={"slug": "no-such-store"})

    assert client.get(url).status_code == 404


def test_a_cached_page_and_its_catalogue_version_come_in_one_cache_round_trip(
    client, merchant, product, product_url, request, django_capture_on_commit_callbacks
):
    client.get(product_url)
    client.get(product_url)  # the process has learnt which merchant the page belongs to
    calls = request.getfixturevalue("cache_calls")

    page = client.get(product_url)
    assert page.status_code == 200
    assert calls == ["get_many"]

    # and an edit still shows at once
    with django_capture_on_commit_callbacks(execute=True):
        product_update(merchant=merchant, product_id=product.pk, name="Biluochun")
    assert "Biluochun" in client.get(product_url).content.decode()


@pytest.fixture
def cursors(db):
    with counting_cursors() as counting:
        yield counting


@pytest.fixture
def cache_calls(monkeypatch):
    """The names of the cache methods the page cache calls, from now on."""
    from apps.storefront import page_cache

    calls = []
    real = page_cache.cache

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(page_cache, "cache", Counting())
    yield calls
    monkeypatch.setattr(page_cache, "cache", real)


def test_a_cached_hit_touches_no_database_nor_the_session_nor_the_scope(
    client, product, product_url, catalogue_url, cursors, monkeypatch
):
    from apps.tenancy import middleware as tenancy

    client.get(product_url)
    client.get(catalogue_url)
    scopes, users = [], []
    real_scope = tenancy.request_scope
    monkeypatch.setattr(tenancy, "request_scope", lambda r: scopes.append(r) or real_scope(r))
    monkeypatch.setattr("django.contrib.auth.get_user", lambda r: users.append(r))
    cursors.cursors = 0

    product_page = client.get(product_url)
    catalogue = client.get(catalogue_url)

    assert (product_page.status_code, catalogue.status_code) == (200, 200)
    assert "Longjing" in product_page.content.decode()
    assert cursors.cursors == 0
    assert (scopes, users) == ([], [])


def test_a_cached_hit_keeps_the_headers_and_cookies_of_a_rendered_page(client, product_url):
    rendered = client.get(product_url)

    visitor = Client()
    hit = visitor.get(product_url)

    for response in (rendered, hit):
        assert response["X-Frame-Options"] == "DENY"
        assert {"Accept-Language", "Cookie"} <= {
            value.strip() for value in response["Vary"].split(",")
        }
    assert {"csrftoken", "fx_device"} <= set(hit.cookies)


def test_the_middleware_misses_once_and_the_view_keeps_the_page(
    client, merchant, product, product_url, request, django_capture_on_commit_callbacks
):
    client.get(product_url)
    client.get(product_url)  # the process has learnt which merchant the page belongs to
    with django_capture_on_commit_callbacks(execute=True):
        product_update(merchant=merchant, product_id=product.pk, name="Biluochun")
    calls = request.getfixturevalue("cache_calls")

    stale = client.get(product_url)
    again = client.get(product_url)

    assert "Biluochun" in stale.content.decode()
    # the stale entry and its version (one MGET), the version before rendering, the new entry
    assert calls == ["get_many", "get", "set", "get_many"]
    assert "Biluochun" in again.content.decode()


def test_each_store_gets_its_own_cached_catalogue(client, merchant, other_merchant, product):
    theirs = ProductFactory(merchant=other_merchant, name="Pu-erh")
    SkuFactory(product=theirs, name="357g", price="300.00", stock=5)
    ours_url = reverse("storefront:catalogue", kwargs={"slug": merchant.slug})
    theirs_url = reverse("storefront:catalogue", kwargs={"slug": other_merchant.slug})
    for _ in range(2):  # rendered, then from the cache
        ours = client.get(ours_url).content.decode()
        other = client.get(theirs_url).content.decode()

        assert "Longjing" in ours and "Pu-erh" not in ours
        assert "Pu-erh" in other and "Longjing" not in other


def test_signed_out_pages_of_other_kinds_are_not_looked_up(client, merchant, monkeypatch):
    from apps.storefront import page_cache

    calls = []
    monkeypatch.setattr(page_cache, "_fresh_entry", lambda request: calls.append(request))

    cart = client.get(reverse("storefront:cart", kwargs={"slug": merchant.slug}))

    assert cart.status_code == 302
    assert calls == []
