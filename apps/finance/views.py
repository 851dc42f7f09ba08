"""Finance reports in the admin (/admin/finance/…), for the signed-in merchant's staff (their own
merchant only) and the operator (who picks a merchant). Each report exports as CSV or XLSX."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.credentials.models import PayeeAccount
from apps.merchants.models import Merchant
from apps.tenancy.admin import request_merchant

from . import selectors
from .exports import Report, csv_response, xlsx_response
from .selectors import Period

MAX_PERIOD_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError(_("A period is at most a year."))
        return cleaned


def _default_period() -> dict[str, date]:
    today = timezone.localdate()
    return {"start": today.replace(day=1), "end": today}


def _merchant(request: HttpRequest) -> Merchant | None:
    """The staff member's merchant; the operator's choice (``?merchant=<id>``), else None."""
    if request.user.is_superuser:
        merchant_id = request.GET.get("merchant", "")
        if not merchant_id.isdigit():
            return None
        merchant = Merchant.objects.filter(pk=int(merchant_id)).first()
        if merchant is None:
            raise Http404(_("No such merchant."))
        return merchant
    merchant = request_merchant(request)
    if merchant is None:
        raise PermissionDenied
    return merchant


def _render(
    request: HttpRequest,
    *,
    title: str,
    build: Callable[[Merchant, Period | None], Report],
    uses_period: bool = True,
) -> HttpResponseBase:
    merchant = _merchant(request)
    context: dict[str, Any] = {**admin.site.each_context(request), "title": title}
    if merchant is None:
        context["merchants"] = Merchant.objects.order_by("name").only("pk", "name")
        return TemplateResponse(request, "finance/admin/choose_merchant.html", context)
    form = PeriodForm(request.GET if "start" in request.GET else _default_period())
    period = None
    if uses_period:
        if not form.is_valid():
            context.update(form=form, merchant=merchant, report=None)
            return TemplateResponse(request, "finance/admin/report.html", context, status=400)
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
    report = build(merchant, period)
    export = request.GET.get("export")
    if export == "csv":
        return csv_response(report)
    if export == "xlsx":
        return xlsx_response(report)
    query = request.GET.copy()
    query.pop("export", None)
    context.update(
        form=form if uses_period else None,
        merchant=merchant,
        report=report,
        rows=[[row.get(key) for key, _label in report.columns] for row in report.rows],
        totals=(
            [report.totals.get(key) for key, _label in report.columns] if report.totals else None
        ),
        query=query.urlencode(),
    )
    return TemplateResponse(request, "finance/admin/report.html", context)


def _statement(merchant: Merchant, period: Period | None) -> Report:
    assert period is not None
    return Report(
        name=f"statement-{merchant.slug}-{period.start}-{period.end}",
        title=_("Merchant statement"),
        columns=selectors.STATEMENT_COLUMNS,
        rows=selectors.statement_rows(merchant=merchant, period=period),
        totals={
            "created_at": _("Total"),
            **selectors.statement_totals(merchant=merchant, period=period),
        },
    )


def _payable(merchant: Merchant, period: Period | None) -> Report:
    return Report(
        name=f"commission-payable-{merchant.slug}",
        title=_("Commission payable"),
        columns=selectors.PAYABLE_COLUMNS,
        rows=selectors.commission_payable_rows(merchant=merchant),
        totals={
            "distributor": _("Total"),
            **selectors.commission_payable_totals(merchant=merchant),
        },
    )


def _reconciliation(merchant: Merchant, period: Period | None) -> Report:
    assert period is not None
    found = selectors.reconciliation(merchant=merchant, period=period)
    names = dict(PayeeAccount.Provider.choices)
    counts: dict[tuple[str, str], int] = {}
    for row in found.rows:
        row["provider"] = str(names.get(row["provider"], row["provider"]))
        key = (row["provider"], row["outcome"])
        counts[key] = counts.get(key, 0) + 1
        row["outcome"] = str(selectors.OUTCOME_LABELS[row["outcome"]])
    notes = [
        f"{selectors.OUTCOME_LABELS[outcome]}: {sum(n for (_p, o), n in counts.items() if o == outcome)}"
        for outcome in selectors.OUTCOME_LABELS
    ]
    for provider in sorted({provider for provider, _outcome in counts}):
        notes.append(
            f"{provider}: "
            + ", ".join(
                f"{selectors.OUTCOME_LABELS[outcome]} {counts[(provider, outcome)]}"
                for outcome in selectors.OUTCOME_LABELS
                if (provider, outcome) in counts
            )
        )
    for provider, days in found.statements_missing.items():
        notes.append(
            _("%(provider)s: no statement downloaded yet for %(days)s")
            % {
                "provider": names.get(provider, provider),
                "days": ", ".join(str(day) for day in days),
            }
        )
    return Report(
        name=f"reconciliation-{merchant.slug}-{period.start}-{period.end}",
        title=_("Reconciliation with the payment providers"),
        columns=selectors.RECONCILIATION_COLUMNS,
        rows=found.rows,
        notes=notes,
    )


def _withdrawals(merchant: Merchant, period: Period | None) -> Report:
    # HOOK (withdrawals): the withdrawal model is not on this branch. When it lands, list the
    # queue here (requested / approved / paying, oldest first) and link to its admin changelist.
    return Report(
        name=f"withdrawal-queue-{merchant.slug}",
        title=_("Withdrawal queue"),
        columns=[("status", _("Status")), ("count", _("Requests")), ("amount", _("Amount"))],
        rows=[],
        notes=[_("The withdrawal queue is managed under Withdrawals.")],
    )


def statement(request: HttpRequest) -> HttpResponseBase:
    return _render(request, title=_("Merchant statement"), build=_statement)


def payable(request: HttpRequest) -> HttpResponseBase:
    return _render(request, title=_("Commission payable"), build=_payable, uses_period=False)


def reconciliation(request: HttpRequest) -> HttpResponseBase:
    return _render(request, title=_("Reconciliation"), build=_reconciliation)


def withdrawals(request: HttpRequest) -> HttpResponseBase:
    return _render(request, title=_("Withdrawal queue"), build=_withdrawals, uses_period=False)


def index(request: HttpRequest) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": _("Finance")}
    if not request.user.is_superuser and request_merchant(request) is None:
        raise PermissionDenied
    context["merchant_query"] = (
        f"?merchant={request.GET['merchant']}" if request.GET.get("merchant", "").isdigit() else ""
    )
    return TemplateResponse(request, "finance/admin/index.html", context)
