"""Signed-out store pages (catalogue, product) served from the cache, with ETag / Last-Modified.

Most visitors of a store arrive signed out, through a shared link, and see the same page as every
other signed-out visitor: only the CSRF token in its forms (the language switch, add to cart) is
theirs. So the page is rendered once per (merchant, language, path, catalogue version), kept in
the cache (Redis, shared by every web process) with its token replaced by a placeholder, and each
visitor gets it back with their own token put in (``get_token``, which also gives them the CSRF
cookie, as rendering would have). A browser that already holds the page gets a 304
(``get_conditional_response``, Django's own conditional-GET logic).

What keys a page and when it is built again:
- the request's language (``LocaleMiddleware``) and the path (which names the store); a query
  string (a share link's ``?ref=``, pagination) is rendered live, as is anything for a signed-in
  visitor (a session cookie) or one with messages waiting (the messages cookie). Prices on a
  cached page are the signed-out visitor's (limited-time and flash prices, never a member's): a
  page rendered for a signed-in visitor is never kept, whatever cookies they sent;
- the merchant's catalogue version (``apps.products.versions``): a product or SKU edit shows at once;
- the merchant's promotions and flash sales move the same version when they are written;
- at most ``FENXIAO_PAGE_CACHE_SECONDS`` old otherwise: stock reserved by orders (checkout and the
  cart always read the live stock), a flash sale's units left and a promotion window opening or
  closing (countdowns run in the browser from the end time), the store's own name and description,
  a store closed by the operator.

The ETag is a digest of the cached page and the visitor's CSRF secret (their cookie): the page a
browser holds carries a token made from that secret, so a new cookie (or none) never gets a 304.
"""

import hashlib
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.timezone import now

from apps.products.versions import catalogue_version_key, catalogue_version_of

TOKEN_PLACEHOLDER = "__fenxiao_csrf_token__"
TOKEN_IN_PAGE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _servable_from_cache(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _page_key(request: HttpRequest) -> str:
    # The path holds the store's slug; the entry holds the merchant's id (for its version).
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return f"store-page:{language}:{request.path}"


def _etag(entry: dict, csrf_secret: str) -> str:
    digest = hashlib.blake2b(f"{entry['digest']}\x00{csrf_secret}".encode(), digest_size=12)
    return f'"{digest.hexdigest()}"'


def _entry_from(response: HttpResponse, *, merchant_id: int, version: int) -> dict | None:
    """What is kept of a freshly rendered page; None when it must not be kept."""
    if response.status_code != 200 or response.cookies.keys() - {settings.CSRF_COOKIE_NAME}:
        return None
    body = response.content.decode(response.charset)
    tokens = set(TOKEN_IN_PAGE.findall(body))
    if len(tokens) > 1:
        return None
    for token in tokens:
        body = body.replace(token, TOKEN_PLACEHOLDER)
    return {
        "merchant_id": merchant_id,
        "version": version,
        "body": body,
        "content_type": response["Content-Type"],
        "digest": hashlib.blake2b(body.encode(), digest_size=12).hexdigest(),
        "modified": now().timestamp(),
    }


def _respond(request: HttpRequest, entry: dict) -> HttpResponse:
    modified = int(entry["modified"])
    # The visitor's CSRF secret, as CsrfViewMiddleware read it from their cookie (None without a
    # valid one): the page a browser holds carries a token made from it.
    held_secret = request.META.get("CSRF_COOKIE")
    response = None
    if held_secret:
        response = get_conditional_response(
            request, etag=_etag(entry, held_secret), last_modified=modified
        )
    if response is None:
        body = entry["body"]
        if TOKEN_PLACEHOLDER in body:
            body = body.replace(TOKEN_PLACEHOLDER, get_token(request))
        response = HttpResponse(body, content_type=entry["content_type"])
    response["ETag"] = _etag(entry, request.META.get("CSRF_COOKIE") or get_token(request))
    response["Last-Modified"] = http_date(modified)
    # The page carries this visitor's CSRF token: no shared cache may keep it, and the browser
    # asks again each time (cheaply: a 304 while nothing changed). Cookies decide which page
    # (a session cookie: rendered for that person), as the language does (LocaleMiddleware).
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie",))
    return response


# Page key → the merchant id its entry named last time, per process: with it, the page and its
# catalogue version come in one cache round trip (MGET) instead of two. Only a hint: the entry's
# own merchant id is what counts.
_MERCHANT_OF_PAGE: dict[str, int] = {}
_MERCHANT_OF_PAGE_MAX = 10_000


def _fresh_entry(request: HttpRequest) -> dict | None:
    """The cached page for this request if there is one and its catalogue has not moved since."""
    key = _page_key(request)
    known = _MERCHANT_OF_PAGE.get(key)
    if known is not None:
        version_key = catalogue_version_key(known)
        found = cache.get_many([key, version_key])
        entry = found.get(key)
        if isinstance(entry, dict) and entry.get("merchant_id") == known:
            version = catalogue_version_of(found.get(version_key))
            return entry if entry["version"] == version else None
        if not isinstance(entry, dict) or "merchant_id" not in entry:
            return None
    else:
        entry = cache.get(key)
        if not isinstance(entry, dict) or "merchant_id" not in entry:
            return None
    if len(_MERCHANT_OF_PAGE) >= _MERCHANT_OF_PAGE_MAX:
        _MERCHANT_OF_PAGE.clear()
    _MERCHANT_OF_PAGE[key] = entry["merchant_id"]
    version = catalogue_version_of(cache.get(catalogue_version_key(entry["merchant_id"])))
    return entry if entry["version"] == version else None


# Set on a request whose cached page the middleware looked for and did not find (or found stale):
# the view renders it without asking the cache again.
_LOOKED_UP = "_fenxiao_store_page_looked_up"


class StorePageCacheMiddleware:
    """Serves a signed-out visitor's cached store page before the request reaches the session's
    user, the row-level security scope and the view (``settings.MIDDLEWARE``: after the locale and
    CSRF middleware, whose language and CSRF cookie the page needs, before authentication): a hit
    costs one cache round trip and nothing of the database, not even the store's lookup.

    Only the views of ``cached_store_page`` are looked up (resolved from the path, which the
    handler does anyway); what their entries may show, and for how long, is said above.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _servable_from_cache(request) and request.path_info.startswith("/s/"):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            if getattr(match.func, "store_page_cached", False):
                entry = _fresh_entry(request)
                if entry is not None:
                    return _respond(request, entry)
                setattr(request, _LOOKED_UP, True)
        return self.get_response(request)


def cached_private_page(
    request: HttpRequest, *, key: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """A signed-in visitor's own page (their earnings…) from the cache under ``key``, else
    ``render()`` and keep it (its CSRF token replaced by the placeholder, as above).

    ``key`` must name everything the page shows: the visitor, the language, the query string and a
    fingerprint of the data (see ``selectors.distributor_earnings_state``); the entry lives
    ``FENXIAO_PAGE_CACHE_SECONDS`` at most, which bounds what the key leaves out (the store's
    name). A page with messages waiting is rendered live, and so is anything but GET/HEAD.
    """
    if (
        request.method not in ("GET", "HEAD")
        or CookieStorage.cookie_name in request.COOKIES
        or request.session.get("_messages")
    ):
        return render()
    entry = cache.get(key)
    if isinstance(entry, dict) and "body" in entry:
        return _respond(request, entry)
    response = render()
    fresh = _entry_from(response, merchant_id=0, version=0)
    if fresh is None:
        return response
    cache.set(key, fresh, timeout=settings.FENXIAO_PAGE_CACHE_SECONDS)
    return _respond(request, fresh)


def cached_store_page(store_view: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """``@cached_store_page(store_view)`` in place of ``@store_view``: the store is resolved by
    ``store_view`` as on every store page, and signed-out GETs come from the cache.

    A hit costs one cache round trip (the page and its catalogue version together) and no query:
    the store is not looked up again while its page is cached, so a store that is closed (or
    renamed) shows so within ``FENXIAO_PAGE_CACHE_SECONDS``. With ``StorePageCacheMiddleware``
    installed the hit is served there, before the session's user and the scope are resolved.
    """

    def decorator(view: Callable) -> Callable:
        resolved = store_view(view)

        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
            if not _servable_from_cache(request):
                return resolved(request, slug, *args, **kwargs)
            entry = None if getattr(request, _LOOKED_UP, False) else _fresh_entry(request)
            if entry is not None:
                return _respond(request, entry)

            def render_and_keep(request: HttpRequest, merchant, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
                # Read before rendering: an edit made meanwhile moves the version past this page's.
                version = catalogue_version_of(cache.get(catalogue_version_key(merchant.pk)))
                response = view(request, merchant, *args, **kwargs)
                if request.user.is_authenticated:
                    # Priced for this visitor (a member price): never kept for anyone else.
                    return response
                fresh = _entry_from(response, merchant_id=merchant.pk, version=version)
                if fresh is None:
                    return response
                cache.set(_page_key(request), fresh, timeout=settings.FENXIAO_PAGE_CACHE_SECONDS)
                return _respond(request, fresh)

            return store_view(render_and_keep)(request, slug, *args, **kwargs)

        wrapper.store_page_cached = True  # type: ignore[attr-defined]
        return wrapper

    return decorator
