"""The distributor's itemised statement (/s/<store>/d/statement/): every movement of their balances
in a period with the running balances, and its CSV download."""

from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.distributors.models import Distributor
from apps.finance import selectors
from apps.finance.exports import Report, csv_response
from apps.finance.views import PeriodForm
from apps.merchants.models import Merchant

from .views import SignedInRequest, distributor_required, render_store, store_view


@require_GET
@store_view
@distributor_required
def distributor_statement(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponseBase:
    today = timezone.localdate()
    form = PeriodForm(
        request.GET if "start" in request.GET else {"start": today.replace(day=1), "end": today}
    )
    if not form.is_valid():
        return render_store(
            request,
            merchant,
            "storefront/finance/statement.html",
            {"distributor": distributor, "form": form, "rows": []},
            status=400,
        )
    period = selectors.Period(form.cleaned_data["start"], form.cleaned_data["end"])
    opening = selectors.distributor_opening_balances(distributor=distributor, period=period)
    rows = selectors.distributor_statement_rows(
        distributor=distributor, period=period, opening=opening
    )
    if request.GET.get("export") == "csv":
        return csv_response(
            Report(
                name=f"statement-{distributor.invite_code}-{period.start}-{period.end}",
                title=_("Statement"),
                columns=selectors.DISTRIBUTOR_STATEMENT_COLUMNS,
                rows=rows,
            )
        )
    listed = list(rows)
    closing = {key: listed[-1][key] for key in opening} if listed else opening
    return render_store(
        request,
        merchant,
        "storefront/finance/statement.html",
        {
            "distributor": distributor,
            "form": form,
            "rows": listed,
            "opening": opening,
            "closing": closing,
            "query": request.GET.urlencode(),
        },
    )
