"""Finance over the API: the distributor's itemised statement (JSON, paginated, and CSV) and the
merchant staff's read-only reports (statement, commission payable, reconciliation)."""

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from apps.core.errors import NotFound
from apps.distributors.models import Distributor
from apps.finance import selectors
from apps.finance.exports import Report, csv_response
from apps.finance.selectors import Period
from apps.ledger.models import Journal
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    DistributorStatementPageSerializer,
    PayablePageSerializer,
    PeriodQuerySerializer,
    ReconciliationSerializer,
    StatementPageSerializer,
)


class FinancePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _period(request: Request) -> Period:
    serializer = PeriodQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["period"]


def _page(
    view: Any,
    request: Request,
    queryset: QuerySet,
    finish: Any,
    serializer_class: type[Serializer],
    **extra: Any,
) -> Response:
    """One page of raw rows, each finished by ``finish``, with ``extra`` figures beside them."""
    paginator = FinancePagination()
    rows = paginator.paginate_queryset(queryset, request, view=view) or []
    assert paginator.page is not None
    data = {
        "count": paginator.page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        **extra,
        "results": [finish(row) for row in rows],
    }
    return Response(serializer_class(data).data)


def _period_data(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}


@extend_schema(tags=["distributor"], parameters=[PeriodQuerySerializer])
class DistributorStatementViewSet(StoreViewSet):
    """The caller's itemised statement in this store: every movement of their balances in a
    period (order, level, rule and explanation, balance, amount) with the balances after it."""

    queryset = Distributor.objects.all()
    serializer_class = DistributorStatementPageSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(user=self.request.user)

    def own_distributor(self) -> Distributor:
        distributor = self.get_queryset().first()
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    @extend_schema(operation_id="v1_stores_distributor_statement_list")
    def statement(self, request: Request, store: str) -> Response:
        period = _period(request)
        distributor = self.own_distributor()
        opening = selectors.distributor_opening_balances(distributor=distributor, period=period)
        return _page(
            self,
            request,
            selectors.distributor_statement_queryset(distributor=distributor, period=period),
            lambda row: selectors.distributor_statement_row(row, opening=opening),
            DistributorStatementPageSerializer,
            period=_period_data(period),
            opening=opening,
        )

    @extend_schema(
        operation_id="v1_stores_distributor_statement_csv",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def statement_csv(self, request: Request, store: str) -> StreamingHttpResponse:
        period = _period(request)
        distributor = self.own_distributor()
        opening = selectors.distributor_opening_balances(distributor=distributor, period=period)
        rows = (
            selectors.distributor_statement_row(row, opening=opening)
            for row in selectors.distributor_statement_queryset(
                distributor=distributor, period=period
            ).iterator(chunk_size=2000)
        )
        return csv_response(
            Report(
                name=f"statement-{distributor.invite_code}-{period.start}-{period.end}",
                title=_("Statement"),
                columns=selectors.DISTRIBUTOR_STATEMENT_API_COLUMNS,
                rows=rows,
            )
        )


@extend_schema(tags=["merchant"])
class MerchantFinanceViewSet(MerchantStaffViewSet):
    """Read-only finance reports of the caller's merchant, from the double-entry ledger."""

    queryset = Journal.objects.all()
    serializer_class = StatementPageSerializer

    @extend_schema(
        operation_id="v1_merchant_finance_statement",
        parameters=[PeriodQuerySerializer],
        responses=StatementPageSerializer,
    )
    def statement(self, request: Request) -> Response:
        """The merchant statement: one row per ledger movement of the period, and its totals."""
        period = _period(request)
        return _page(
            self,
            request,
            selectors.statement_queryset(merchant=self.merchant, period=period),
            selectors.statement_row,
            StatementPageSerializer,
            period=_period_data(period),
            totals=selectors.statement_totals(merchant=self.merchant, period=period),
        )

    @extend_schema(operation_id="v1_merchant_finance_payable", responses=PayablePageSerializer)
    def payable(self, request: Request) -> Response:
        """Commission payable now: per distributor, frozen + available + being withdrawn."""
        return _page(
            self,
            request,
            selectors.commission_payable_queryset(merchant=self.merchant),
            selectors.payable_row,
            PayablePageSerializer,
            totals=selectors.commission_payable_totals(merchant=self.merchant),
        )

    @extend_schema(
        operation_id="v1_merchant_finance_reconciliation",
        parameters=[PeriodQuerySerializer],
        responses=ReconciliationSerializer,
    )
    def reconciliation(self, request: Request) -> Response:
        """Each payment provider's statements of the period against the ledger, discrepancies
        first, and refused notifications; ``statements_missing`` names the days whose statement
        a provider has not given yet (nothing is reported missing there)."""
        period = _period(request)
        found = selectors.reconciliation(merchant=self.merchant, period=period)
        counts = dict.fromkeys(selectors.OUTCOME_LABELS, 0)
        for row in found.rows:
            counts[row["outcome"]] += 1
            row["outcome_label"] = str(selectors.OUTCOME_LABELS[row["outcome"]])
            row["detail"] = row["detail"] or ""
        data = {
            "period": _period_data(period),
            "counts": counts,
            "statements_missing": found.statements_missing,
            "results": found.rows,
        }
        return Response(ReconciliationSerializer(data).data)
