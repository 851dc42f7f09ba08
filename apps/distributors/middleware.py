"""Remembers a share link's code and binds the visitor once they are signed in; gives every
browser a long-lived random device id (for the fraud guards)."""

import contextlib
import ipaddress
import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core.errors import DomainError
from apps.merchants.selectors import merchant_get_active_by_slug

from .guards import fraud_check_binding
from .services import binding_bind, invite_code_normalize

STORE_PATH = re.compile(r"^/s/(?P<slug>[a-z0-9-]+)/")
COOKIE_PREFIX = "fx_ref_"
DEVICE_COOKIE = "fx_device"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 86400
DEVICE_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def request_device_id(request: HttpRequest) -> str:
    """The browser's device id (set by ``DeviceIdMiddleware``), or "" when unknown."""
    return getattr(request, "device_id", "") or ""


def request_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR when it is an IP address (see the rate limits for proxies)."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class DeviceIdMiddleware:
    """A random id per browser in a long-lived cookie: distributors signing up (or customers being
    bound) from the same browser as an existing distributor are flagged for review."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        device = request.COOKIES.get(DEVICE_COOKIE, "")
        fresh = not DEVICE_ID_PATTERN.match(device)
        if fresh:
            device = secrets.token_hex(16)
        request.device_id = device  # type: ignore[attr-defined]
        response = self.get_response(request)
        if fresh:
            response.set_cookie(
                DEVICE_COOKIE,
                device,
                max_age=DEVICE_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


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
                    binding = binding_bind(
                        merchant=merchant, customer=request.user, invite_code=code
                    )
                    fraud_check_binding(
                        binding=binding,
                        ip=request_ip(request),
                        device=request_device_id(request),
                    )
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
