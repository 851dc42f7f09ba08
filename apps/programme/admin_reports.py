"""Back-office reports that are no model's changelist: the leaderboards (排行榜), read-only.

Staff see their own merchant's boards; the operator picks a merchant (``?merchant=<id>``).
Names are shown in full here: this is the merchant's own back office.
"""

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.distributors.models import Distributor
from apps.merchants.models import Merchant
from apps.tenancy.admin import request_merchant

from .leaderboards import Board, Period, leaderboard_get


def leaderboard_report(request: HttpRequest) -> HttpResponse:
    merchants: list[Merchant] = []
    if request.user.is_superuser:
        merchants = list(Merchant.objects.order_by("id"))
        chosen = request.GET.get("merchant", "")
        merchant = next((m for m in merchants if str(m.pk) == chosen), None) or (
            merchants[0] if merchants else None
        )
    else:
        merchant = request_merchant(request)
        if merchant is None:
            raise Http404(_("You do not work for an active merchant."))
    period = request.GET.get("period")
    period = period if period in dict(Period.choices) else Period.DEFAULT
    boards = []
    if merchant is not None:
        for board, label in Board.choices:
            result = leaderboard_get(merchant=merchant, board=board, period=period)
            names = {
                distributor.pk: distributor
                for distributor in Distributor.objects.filter(
                    merchant=merchant, pk__in=[entry.distributor_id for entry in result.top]
                ).select_related("user")
            }
            boards.append(
                {
                    "label": label,
                    "is_money": board != Board.RECRUITS,
                    "rows": [(entry, names.get(entry.distributor_id)) for entry in result.top],
                }
            )
    context = {
        **admin.site.each_context(request),
        "title": _("Leaderboards"),
        "merchant": merchant,
        "merchants": merchants,
        "period": period,
        "periods": Period.choices,
        "boards": boards,
    }
    return render(request, "admin/programme/leaderboard.html", context)
