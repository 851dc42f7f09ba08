"""Remembers a share link's code and binds the visitor once they are signed in."""

import contextlib
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core.errors import DomainError
from apps.merchants.selectors import merchant_get_active_by_slug

from .services import binding_bind, invite_code_normalize

STORE_PATH = re.compile(r"^/s/(?P<slug>[a-z0-9-]+)/")
COOKIE_PREFIX = "fx_ref_"


def referral_cookie_name(slug: str) -> str:
    return f"{COOKIE_PREFIX}{slug}"


class ReferralMiddleware:
    """On a store page: ``?ref=CODE`` is kept in a per-store cookie; for a signed-in visitor the
    remembered code is turned into a binding (permanent: an existing binding is kept) and forgotten.
    """

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = STORE_PATH.match(request.path)
        if match is None:
            return self.get_response(request)
        if request.headers.get("Sec-Fetch-Dest", "document") != "document":
            # Only a page the visitor navigates to counts: an image or script another site embeds
            # with ?ref= must not bind anyone (browsers send Sec-Fetch-Dest; others are trusted).
            return self.get_response(request)
        slug = match["slug"]
        cookie = referral_cookie_name(slug)
        code = request.GET.get("ref") or request.COOKIES.get(cookie)
        try:
            code = invite_code_normalize(code) if code else None
        except DomainError:
            code = None
        bound = False
        if code and request.user.is_authenticated:
            merchant = merchant_get_active_by_slug(slug=slug)
            if merchant is not None:
                # A refused binding (self-referral, a loop) just leaves the visitor unbound.
                with contextlib.suppress(DomainError):
                    binding_bind(merchant=merchant, customer=request.user, invite_code=code)
                bound = True
        response = self.get_response(request)
        if bound:
            response.delete_cookie(cookie)
        elif code and request.GET.get("ref"):
            response.set_cookie(
                cookie,
                code,
                max_age=settings.FENXIAO_REFERRAL_COOKIE_DAYS * 86400,
                httponly=True,
                samesite="Lax",
            )
        return response
