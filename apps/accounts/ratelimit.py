"""Rate limits for the HTML forms that check passwords or create accounts.

A fixed-window counter per (scope, identity) in the default cache (Redis, shared by every process):
``cache.add`` starts the window's counter, ``cache.incr`` counts atomically, so concurrent requests
cannot all slip under the limit. A window allows at most ``limit`` attempts; at a window's edge a
client can make up to twice that in a short burst, which is enough to stop guessing.

The client is ``REMOTE_ADDR``. Behind a reverse proxy, have the proxy (or the WSGI server) set it to
the real client address; X-Forwarded-For is not read, as any client can send it. The API's DRF
throttles are configured to agree (``NUM_PROXIES = 0``).
"""

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
clock = time.time  # tests replace it to pin the window


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """``10/min``, ``5/hour``, … (DRF's syntax: the period's first letter counts)."""
        count, period = text.split("/")
        return cls(limit=int(count), period=PERIODS[period.strip()[0]])


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _cache_key(scope: str, identity: str, window: int) -> str:
    # Hashed: identities may be usernames, which are not the cache's business.
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return f"ratelimit:{scope}:{digest}:{window}"


def attempt(*, scope: str, identity: str) -> int | None:
    """Count one attempt of ``identity`` in ``scope``.

    Returns ``None`` when it is within the limit of ``settings.FENXIAO_RATE_LIMITS[scope]``,
    otherwise the seconds until the window ends.
    """
    rate = Rate.parse(settings.FENXIAO_RATE_LIMITS[scope])
    now = clock()
    window = int(now // rate.period)
    key = _cache_key(scope, identity, window)
    # The key outlives its window (which its name pins down), never the other way round.
    cache.add(key, 0, timeout=rate.period)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=rate.period)
        count = 1
    if count <= rate.limit:
        return None
    return max(1, math.ceil((window + 1) * rate.period - now))


def attempts(*limits: tuple[str, str]) -> int | None:
    """Count one attempt against each ``(scope, identity)``; the longest wait if any is over."""
    waits = [attempt(scope=scope, identity=identity) for scope, identity in limits]
    return max((wait for wait in waits if wait is not None), default=None)


def submitted(request: HttpRequest, *secret_fields: str) -> dict[str, str]:
    """What was typed into the form, without secrets: ``initial`` for re-rendering it unbound, so
    that a refused attempt runs no validation (a login form's validation checks the password)."""
    hidden = {"csrfmiddlewaretoken", *secret_fields}
    return {name: request.POST[name] for name in request.POST if name not in hidden}


def refused(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, wait: int
) -> HttpResponse:
    """The form page again, status 429, with a message saying how long to wait."""
    minutes = max(1, math.ceil(wait / 60))
    messages.error(
        request,
        ngettext(
            "Too many attempts. Please try again in %(minutes)d minute.",
            "Too many attempts. Please try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )
    response = render(request, template_name, context, status=429)
    response["Retry-After"] = str(wait)
    return response
