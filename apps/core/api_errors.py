"""Errors answered as clear 4xx by the API: ``{"detail": …, "code": …}`` (invalid input:
the fields with their messages). Documented once in the schema (``api_schema``)."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=400)
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and isinstance(response.data, dict)
        and set(response.data) == {"detail"}
    ):
        # DRF's own refusals (401, 403, 404, 405, 429…) carry their code too: one error shape.
        detail = response.data["detail"]
        if isinstance(detail, str):
            response.data["code"] = getattr(detail, "code", None) or "error"
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: under ``/api/`` a path that matches no route (an id with a ``/`` in it,
    say) answers in the API's error shape, not with the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
