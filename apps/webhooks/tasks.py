from collections.abc import Iterable

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.tenancy.tasks import delay_in_merchant_scopes

from .models import WebhookDelivery
from .services import webhook_deliver, webhooks_due


def webhooks_enqueue_on_commit(delivery_ids: Iterable[int]) -> None:
    """Send these deliveries once the current transaction commits (at once outside one)."""
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(lambda: [webhook_deliver_task.delay(pk) for pk in ids])


@shared_task(ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> None:
    """One attempt; a failure schedules the next with backoff (a countdown within the broker's
    visibility timeout, else beat's sweeper picks it up when due)."""
    delivery = webhook_deliver(delivery_id=delivery_id)
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return
    assert delivery.next_attempt_at is not None  # a pending delivery always has its next attempt
    countdown = (delivery.next_attempt_at - timezone.now()).total_seconds()
    if countdown < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2:
        webhook_deliver_task.apply_async((delivery_id,), countdown=max(countdown, 0))


@shared_task(ignore_result=True, platform_scope="beat: sweep webhook deliveries of every store")
def webhooks_sweep() -> None:
    """Beat: every due pending delivery (a lost task, a retry further away than a countdown)."""
    delay_in_merchant_scopes(webhook_deliver_task, WebhookDelivery, webhooks_due())
