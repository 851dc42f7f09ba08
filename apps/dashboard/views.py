"""The dashboard page and its one JSON endpoint, in the admin (/admin/dashboard/…): staff see their
merchant; the operator sees every merchant together, or one (``?merchant=<id>``)."""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from apps.merchants.models import Merchant
from apps.tenancy.admin import request_merchant

from .selectors import RANGES, dashboard_data, per_merchant


def _scope(request: HttpRequest) -> Merchant | None:
    """The merchant the dashboard shows: the staff member's, or the operator's choice (None: all)."""
    if request.user.is_superuser:
        merchant_id = request.GET.get("merchant", "")
        if not merchant_id:
            return None
        if not merchant_id.isdigit():
            raise Http404(_("No such merchant."))
        merchant = Merchant.objects.filter(pk=int(merchant_id)).first()
        if merchant is None:
            raise Http404(_("No such merchant."))
        return merchant
    merchant = request_merchant(request)
    if merchant is None:
        raise PermissionDenied
    return merchant


def _days(request: HttpRequest) -> int:
    raw = request.GET.get("days", "7")
    if not raw.isdigit() or int(raw) not in RANGES:
        raise Http404(_("The dashboard shows 1, 7 or 30 days."))
    return int(raw)


def dashboard_cached(*, merchant: Merchant | None, days: int) -> dict:
    """The figures, cached a minute per merchant and range (FENXIAO_DASHBOARD_CACHE_SECONDS)."""
    key = f"dashboard:v1:{merchant.pk if merchant else 'all'}:{days}"
    data = cache.get(key)
    if data is None:
        data = dashboard_data(merchant=merchant, days=days)
        if merchant is None:
            data["merchants"] = per_merchant(days=days)
        cache.set(key, data, settings.FENXIAO_DASHBOARD_CACHE_SECONDS)
    return data


def data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dashboard_cached(merchant=_scope(request), days=_days(request)))


def page(request: HttpRequest) -> HttpResponse:
    from django.contrib import admin

    merchant = _scope(request)
    return TemplateResponse(
        request,
        "dashboard/page.html",
        {
            **admin.site.each_context(request),
            "title": _("Dashboard"),
            "merchant": merchant,
            "merchants": Merchant.objects.order_by("name") if request.user.is_superuser else [],
            "days": _days(request),
            "ranges": RANGES,
        },
    )
