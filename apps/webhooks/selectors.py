from .models import WebhookEndpoint


def merchant_has_endpoints(*, merchant_id: int) -> bool:
    """One indexed query before any payload is built: most merchants have no endpoint."""
    return WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).exists()
