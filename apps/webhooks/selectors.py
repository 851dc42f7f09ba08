from typing import Any

from django.db.models import QuerySet

from .models import WebhookEndpoint


def merchant_has_endpoints(*, merchant_id: int) -> bool:
    """One indexed query before any payload is built: most merchants have no endpoint."""
    return WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).exists()


def merchants_with_endpoints() -> "QuerySet[WebhookEndpoint, Any]":
    """The ids of merchants with an active endpoint, as a subquery (``merchant_id__in=…``)."""
    return WebhookEndpoint.objects.filter(is_active=True).values("merchant_id")
