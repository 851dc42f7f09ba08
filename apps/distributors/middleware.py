"""Gives every browser a long-lived random device id (for the fraud guards), and reads the device
id and IP of a request. It writes nothing: binding a visitor who came through a share link is the
storefront's explicit step (``apps/storefront/referrals.py``) and the API's binding endpoint."""

import ipaddress
import re
import secrets

from django.http import HttpRequest, HttpResponse

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
