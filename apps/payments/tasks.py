import logging
import urllib.error
import urllib.request
from decimal import Decimal

from celery import shared_task
from django.utils import timezone

from .models import Payment
from .providers.sandbox import (
    SIGNATURE_HEADER,
    SandboxProvider,
    sandbox_notification_body,
    sandbox_refund_notification_body,
    sandbox_sign,
)

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8, default_retry_delay=2)
def sandbox_deliver_notification(self, payment_id: int, provider_trade_no: str) -> None:
    """Play the sandbox provider: POST the signed notification until the merchant acknowledges it."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return
    body = sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no=provider_trade_no,
        amount=payment.amount,
        paid_at=timezone.now(),
    )
    request = urllib.request.Request(
        SandboxProvider().notify_url(),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sandbox_sign(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status == 200:
                return
    except urllib.error.URLError as error:
        logger.warning("sandbox notification for %s failed: %s", payment.out_trade_no, error)
    raise self.retry(countdown=min(2**self.request.retries, 60))


@shared_task(bind=True, max_retries=8, default_retry_delay=2)
def sandbox_deliver_refund_notification(
    self, out_refund_no: str, provider_refund_no: str, amount: str
) -> None:
    """Play the sandbox provider after a refund: POST the signed refund notification until the
    merchant acknowledges it."""
    body = sandbox_refund_notification_body(
        out_refund_no=out_refund_no, provider_refund_no=provider_refund_no, amount=Decimal(amount)
    )
    request = urllib.request.Request(
        SandboxProvider().refund_notify_url(),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sandbox_sign(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status == 200:
                return
    except urllib.error.URLError as error:
        logger.warning("sandbox refund notification for %s failed: %s", out_refund_no, error)
    raise self.retry(countdown=min(2**self.request.retries, 60))


@shared_task(bind=True, max_retries=6, default_retry_delay=30)
def payment_close_at_provider_task(self, payment_id: int) -> str:
    """Close a superseded payment's checkout at its provider, asking again while the provider
    cannot be reached (money that arrives meanwhile is refunded, so giving up is safe)."""
    from .providers import ProviderError
    from .services import payment_close_at_provider

    try:
        return payment_close_at_provider(payment_id=payment_id)
    except ProviderError as error:
        logger.warning("closing payment %s at its provider failed: %s", payment_id, error)
        raise self.retry(countdown=min(30 * 2**self.request.retries, 1800)) from error


@shared_task
def statements_download() -> dict[str, int]:
    """Beat, hourly: every merchant's statement of every provider for yesterday (and the two days
    before, for a provider that could not give it then), each downloaded once and kept; a bill a
    provider has not made yet is asked for again next hour."""
    from datetime import timedelta

    from .statements import statement_day_yesterday, statements_download_day

    yesterday = statement_day_yesterday()
    totals = {"stored": 0, "failed": 0}
    for back in range(3):
        for key, count in statements_download_day(day=yesterday - timedelta(days=back)).items():
            totals[key] += count
    return totals
