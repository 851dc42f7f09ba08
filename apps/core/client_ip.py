"""The client's IP address of a request, for what a provider must be told (WeChat Pay's H5 order
sends the payer's address)."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def request_client_ip(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``; the first hop of ``X-Forwarded-For`` only where
    ``FENXIAO_TRUST_X_FORWARDED_FOR`` says a proxy in front writes that header (anybody can send
    it otherwise). None when neither is an IP address."""
    if settings.FENXIAO_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            first = _address(forwarded.split(",")[0])
            if first is not None:
                return first
    return _address(request.META.get("REMOTE_ADDR") or "")
