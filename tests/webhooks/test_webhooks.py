"""Outgoing webhooks: from a domain event to a signed HTTP request, retries, resend, SSRF guard."""

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.orders.services import order_mark_paid, order_place, order_ship
from apps.webhooks import tasks as webhook_tasks
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import (
    UnsafeDestination,
    webhook_deliver,
    webhook_event_publish,
    webhook_signature,
    webhook_signature_verify,
    webhook_url_check,
)
from tests.factories import MerchantStaffFactory


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers with the next queued status code."""

    def __init__(self):
        self.requests = []
        self.codes = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"nope" if code >= 300 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def endpoint(merchant, receiver):
    return WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url)


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(webhook_tasks.webhook_deliver_task, "delay", sent.append)
    return sent


def shipped_order(merchant, sku, customer, recipient):
    order = order_place(
        merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=recipient
    )
    with transaction.atomic():
        order_mark_paid(order=order)
    order_ship(
        merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="SF9", actor=None
    )
    return order


def test_an_event_becomes_a_signed_delivery(
    merchant,
    sku,
    customer,
    recipient,
    endpoint,
    receiver,
    enqueued,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        order = shipped_order(merchant, sku, customer, recipient)

    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [d.event_type for d in deliveries] == ["order.paid", "order.shipped"]
    assert enqueued == [d.pk for d in deliveries]

    shipped = webhook_deliver(delivery_id=deliveries[1].pk)

    assert shipped.status == WebhookDelivery.Status.DELIVERED
    assert (shipped.attempts, shipped.last_status_code) == (1, 200)
    ((headers, body),) = receiver.requests
    assert headers["Fenxiao-Event"] == "order.shipped"
    assert headers["Fenxiao-Event-Id"] == str(shipped.event_id)
    assert webhook_signature_verify(
        secret=endpoint.secret, header=headers["Fenxiao-Signature"], body=body
    )
    assert not webhook_signature_verify(
        secret="whsec_wrong", header=headers["Fenxiao-Signature"], body=body
    )
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=headers["Fenxiao-Signature"], body=body + b" "
    )
    payload = json.loads(body)
    assert payload["id"] == str(shipped.event_id)
    assert payload["type"] == "order.shipped"
    assert payload["data"]["order"]["number"] == order.number
    assert payload["data"]["order"]["tracking_number"] == "SF9"
    assert "recipient" not in json.dumps(payload)
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [200]


def test_a_stale_signature_is_refused(endpoint):
    body = b"{}"
    header = webhook_signature(secret=endpoint.secret, timestamp=1_000_000, body=body)

    assert webhook_signature_verify(secret=endpoint.secret, header=header, body=body, now=1_000_100)
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=header, body=body, now=1_000_301
    )


def test_a_rolled_back_change_sends_nothing(
    merchant, sku, customer, recipient, endpoint, enqueued, django_capture_on_commit_callbacks
):
    order = order_place(
        merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=recipient
    )

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        order_mark_paid(order=order)
        raise RuntimeError("the payment's transaction fails after the step")

    assert WebhookDelivery.objects.count() == 0
    assert callbacks == [] and enqueued == []


def test_endpoints_get_only_the_events_they_chose(merchant, other_merchant, receiver):
    WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url, event_types=["order.paid"])
    WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url, is_active=False)
    WebhookEndpoint.objects.create(merchant=other_merchant, url=receiver.url)

    assert webhook_event_publish(merchant_id=merchant.pk, event_type="order.shipped", data={}) == []
    (paid,) = webhook_event_publish(merchant_id=merchant.pk, event_type="order.paid", data={})
    assert WebhookDelivery.objects.get(pk=paid).endpoint.event_types == ["order.paid"]


def gap_after_attempt(delivery):
    """Seconds from the delivery's last attempt to its next one (whole seconds: the two times are
    taken a few milliseconds apart)."""
    attempted = WebhookAttempt.objects.filter(delivery=delivery).latest("pk").attempted_at
    return round((delivery.next_attempt_at - attempted).total_seconds())


def test_failures_retry_with_backoff_then_give_up_after_a_day(endpoint, receiver):
    (delivery_id,) = webhook_event_publish(
        merchant_id=endpoint.merchant_id, event_type="order.paid", data={"n": 1}
    )
    receiver.codes = [500, 503]

    first = webhook_deliver(delivery_id=delivery_id)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert gap_after_attempt(first) == 30
    assert webhook_deliver(delivery_id=delivery_id) is None  # not due yet: nothing sent

    WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
    second = webhook_deliver(delivery_id=delivery_id)
    assert (second.attempts, second.last_status_code) == (2, 503)
    assert gap_after_attempt(second) == 60

    receiver.codes = [500]
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(hours=23, minutes=59)
    )
    last = webhook_deliver(delivery_id=delivery_id)
    assert (last.status, last.attempts, last.next_attempt_at) == ("failed", 3, None)
    assert list(
        WebhookAttempt.objects.filter(delivery_id=delivery_id)
        .order_by("pk")
        .values_list("status_code", flat=True)
    ) == [500, 503, 500]
    assert [body for _headers, body in receiver.requests] == [receiver.requests[0][1]] * 3


def test_the_task_schedules_the_retry(endpoint, receiver, monkeypatch):
    (delivery_id,) = webhook_event_publish(
        merchant_id=endpoint.merchant_id, event_type="order.paid", data={}
    )
    receiver.codes = [500]
    scheduled = []
    monkeypatch.setattr(
        webhook_tasks.webhook_deliver_task,
        "apply_async",
        lambda args, countdown: scheduled.append((args, round(countdown))),
    )

    webhook_tasks.webhook_deliver_task(delivery_id)

    assert scheduled == [((delivery_id,), 30)]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
    ],
)
def test_the_ssrf_guard_refuses_this_machine_and_private_networks(settings, url):
    settings.FENXIAO_WEBHOOKS_ALLOW_PRIVATE = False

    with pytest.raises(UnsafeDestination):
        webhook_url_check(url)


def test_the_ssrf_guard_lets_public_addresses_through(settings):
    settings.FENXIAO_WEBHOOKS_ALLOW_PRIVATE = False

    webhook_url_check("https://93.184.215.14/hook")


def test_a_private_destination_is_refused_at_send_time_too(settings, endpoint, receiver):
    (delivery_id,) = webhook_event_publish(
        merchant_id=endpoint.merchant_id, event_type="order.paid", data={}
    )
    settings.FENXIAO_WEBHOOKS_ALLOW_PRIVATE = False

    delivery = webhook_deliver(delivery_id=delivery_id)

    assert (delivery.last_status_code, delivery.last_error.startswith("refused:")) == (None, True)
    assert receiver.requests == []


def test_staff_cannot_register_a_private_endpoint(settings, merchant):
    settings.FENXIAO_WEBHOOKS_ALLOW_PRIVATE = False
    client = Client()
    client.force_login(MerchantStaffFactory(merchant=merchant).user)

    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"url": "http://169.254.169.254/", "description": "", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "private network" in str(response.context["adminform"].form.errors["url"])
    assert WebhookEndpoint.objects.count() == 0


def test_resend_from_the_admin_keeps_the_event_id(merchant, endpoint, receiver, enqueued):
    (delivery_id,) = webhook_event_publish(
        merchant_id=merchant.pk, event_type="order.paid", data={}
    )
    webhook_deliver(delivery_id=delivery_id)
    client = Client()
    client.force_login(MerchantStaffFactory(merchant=merchant).user)

    with transaction.atomic():
        response = client.post(
            reverse("admin:webhooks_webhookdelivery_changelist"),
            {"action": "resend", "_selected_action": [str(delivery_id)]},
        )
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == WebhookDelivery.Status.PENDING
    webhook_deliver(delivery_id=delivery_id)

    ids = [headers["Fenxiao-Event-Id"] for headers, _body in receiver.requests]
    assert ids == [str(delivery.event_id)] * 2
    assert uuid.UUID(ids[0])


def test_another_merchants_delivery_is_absent(merchant, other_merchant, receiver):
    other = WebhookEndpoint.objects.create(merchant=other_merchant, url=receiver.url)
    (delivery_id,) = webhook_event_publish(
        merchant_id=other.merchant_id, event_type="order.paid", data={}
    )
    client = Client()
    client.force_login(MerchantStaffFactory(merchant=merchant).user)

    assert (
        client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery_id])).status_code
        == 404
    )
    assert (
        client.get(reverse("admin:webhooks_webhookendpoint_change", args=[other.pk])).status_code
        == 404
    )
