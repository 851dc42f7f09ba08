"""Outgoing webhooks: enqueue in the change's transaction, sign, send, retry, resend.

A delivery is signed like Stripe's: the ``Fenxiao-Signature`` header is ``t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>``, so a receiver checks the body and
its freshness with one comparison; ``Fenxiao-Event-Id`` stays the same across retries and resends.
Failed attempts are retried with exponential backoff (30 s doubling, at most an hour apart) until a
day after the event, then the delivery is marked failed; staff can resend it from the admin.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookEndpoint

RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX_GAP = timedelta(hours=1)
RETRY_FOR = timedelta(days=1)
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Fenxiao-Webhooks/1"


class UnsafeDestination(Exception):
    """The URL points at this machine or a private network (SSRF guard)."""


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_signature_verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does (and what the tests do): parse the header, recompute, compare in
    constant time, refuse a timestamp more than ``tolerance`` seconds away."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header)


def _address_is_public(address: str | int) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str) -> None:
    """Refuse a URL a webhook must never be sent to: not http(s), or resolving to a loopback,
    private, link-local or otherwise non-public address (unless FENXIAO_WEBHOOKS_ALLOW_PRIVATE,
    for development and tests). Raises UnsafeDestination."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(_("A webhook URL must be http:// or https:// with a host."))
    if parts.username or parts.password:
        raise UnsafeDestination(_("A webhook URL may not carry a user name or password."))
    if settings.FENXIAO_WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeDestination(_("The webhook host does not resolve.")) from error
    if not infos or not all(_address_is_public(info[4][0]) for info in infos):
        raise UnsafeDestination(
            _("Webhooks are never sent to this machine or to private network addresses.")
        )


def webhook_endpoint_validate(*, url: str, event_types: Any) -> list[str]:
    """Form/API validation of an endpoint; returns the cleaned event type list."""
    try:
        webhook_url_check(url)
    except UnsafeDestination as error:
        raise ValidationError({"url": str(error)}) from error
    if not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types):
        raise ValidationError({"event_types": _("A list of event names.")})
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    return sorted(set(event_types))


def webhook_event_publish(*, merchant_id: int, event_type: str, data: dict[str, Any]) -> list[int]:
    """Write one delivery per subscribed endpoint in the caller's transaction; returns their ids,
    which the caller enqueues on commit (``tasks.webhooks_enqueue_on_commit``). A rolled-back
    change leaves no delivery and sends nothing."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True)
        if endpoint.wants(event_type)
    ]
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            merchant_id=merchant_id,
            endpoint=endpoint,
            event_type=event_type,
            next_attempt_at=now,
            payload={},
        )
        delivery.payload = {
            "id": str(delivery.event_id),
            "type": event_type,
            "created_at": now.isoformat(),
            "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
        }
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    return [delivery.pk for delivery in deliveries]


def retry_delay(attempts: int) -> timedelta:
    """Gap before attempt ``attempts + 1``: 30 s, 1 min, 2 min, … at most an hour."""
    return min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX_GAP)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one pending, due delivery once; returns it (None when another worker holds it, or it
    is not pending or not due). The row stays locked during the request so two workers never
    send the same delivery at once."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(
                pk=delivery_id,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if delivery is None:
            return None
        status_code, error, duration_ms = _send(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:300]
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif now + retry_delay(delivery.attempts) > delivery.created_at + RETRY_FOR:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        WebhookAttempt.objects.create(
            merchant_id=delivery.merchant_id,
            delivery=delivery,
            status_code=status_code,
            error=error[:300],
            duration_ms=duration_ms,
        )
    return delivery


def _send(delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Fenxiao-Event": delivery.event_type,
        "Fenxiao-Event-Id": str(delivery.event_id),
        "Fenxiao-Timestamp": str(timestamp),
        "Fenxiao-Signature": webhook_signature(
            secret=delivery.endpoint.secret, timestamp=timestamp, body=body
        ),
    }
    started = time.monotonic()
    try:
        webhook_url_check(delivery.endpoint.url)
        response = httpx.post(
            delivery.endpoint.url,
            content=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except UnsafeDestination as error:
        return None, f"refused: {error}", 0
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}", int((time.monotonic() - started) * 1000)
    elapsed = int((time.monotonic() - started) * 1000)
    return response.status_code, "" if response.is_success else response.text[:200], elapsed


def webhook_resend(*, delivery: WebhookDelivery) -> None:
    """Make a delivery pending and due again (same event id), whatever its status; the caller
    enqueues it on commit."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )


def webhooks_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat sweeper's work)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
