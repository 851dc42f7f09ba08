"""Landing a visitor who arrives through a share link (``?ref=CODE``) on a store page.

``store_view`` calls ``referral_land`` before every store page and ``referral_remember`` on its
response. Only a page the visitor navigates to counts: an image or script another site embeds with
``?ref=`` must bind no one (browsers send ``Sec-Fetch-Dest``; others are trusted). A signed-in
visitor is bound at once through the one binding service (``apps.programme.binding``); an
anonymous one keeps the code in a per-store cookie until they sign in.
"""

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core.errors import DomainError
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.services import invite_code_normalize
from apps.merchants.models import Merchant
from apps.programme.binding import customer_bind

COOKIE_PREFIX = "fx_ref_"


def referral_cookie_name(slug: str) -> str:
    return f"{COOKIE_PREFIX}{slug}"


@dataclass(frozen=True)
class Landing:
    cookie: str
    code: str | None  # the code the visit carries (the link's, else the cookie's), if valid
    from_link: bool  # the code came in this visit's URL
    bound: bool  # the signed-in visitor's code was used (bound, or refused for good)


def referral_land(request: HttpRequest, merchant: Merchant) -> Landing:
    """Bind a signed-in visitor to the code of the link (or of the cookie), before the page."""
    cookie = referral_cookie_name(merchant.slug)
    if request.headers.get("Sec-Fetch-Dest", "document") != "document":
        return Landing(cookie=cookie, code=None, from_link=False, bound=False)
    raw = request.GET.get("ref") or request.COOKIES.get(cookie)
    try:
        code = invite_code_normalize(raw) if raw else None
    except DomainError:
        code = None
    bound = False
    if code and request.user.is_authenticated:
        # A refused binding (self-referral, a loop, not a new customer) leaves the visitor unbound.
        with contextlib.suppress(DomainError):
            customer_bind(
                merchant=merchant,
                customer=request.user,  # type: ignore[arg-type]
                invite_code=code,
                ip=request_ip(request),
                device=request_device_id(request),
            )
        bound = True
    return Landing(cookie=cookie, code=code, from_link=bool(request.GET.get("ref")), bound=bound)


def referral_remember(response: HttpResponse, landing: Landing) -> HttpResponse:
    """Forget a code once used; remember a link's code for an anonymous visitor."""
    if landing.bound:
        response.delete_cookie(landing.cookie)
    elif landing.code and landing.from_link:
        response.set_cookie(
            landing.cookie,
            landing.code,
            max_age=settings.FENXIAO_REFERRAL_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
        )
    return response
