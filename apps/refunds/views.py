"""Every provider's asynchronous refund notification callback."""

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError
from apps.payments.providers import provider_get
from apps.payments.views import json_error

from .services import refund_handle_notification


@csrf_exempt
@require_POST
def refund_notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's asynchronous refund notification: verified, idempotent, acknowledged."""
    try:
        refund_handle_notification(
            provider=provider,
            body=request.body,
            # HttpHeaders, not a dict: providers look their headers up case-insensitively.
            headers=cast("dict[str, str]", request.headers),
        )
    except DomainError as error:
        return json_error(error)
    content_type, body = provider_get(provider).acknowledgement()
    return HttpResponse(body, content_type=content_type)
