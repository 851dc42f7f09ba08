"""售后 pages: a customer asks for a refund of an order and follows the case."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError, NotFound
from apps.merchants.models import Merchant
from apps.orders.models import OrderLine
from apps.refunds.models import RefundCase, RefundCaseLine, RefundStatusChange
from apps.refunds.services import (
    REFUNDABLE_ORDER_STATUSES,
    RefundLineRequest,
    refund_cancel,
    refund_get_for_customer,
    refund_request,
)

from .forms_refunds import RefundRequestForm
from .views import SignedInRequest, _customer_order, render_store, store_login_required, store_view

CASES_PER_PAGE = 20

ERROR_FIELDS = {
    "quantity_exceeds_refundable": "quantity",
    "invalid_quantity": "quantity",
    "amount_exceeds_refundable": "amount",
    "invalid_amount": "amount",
    "reason_required": "reason",
    "reason_too_long": "reason",
    "line_required": "order_line",
}


@require_http_methods(["GET", "POST"])
@store_view
@store_login_required
def refund_request_view(
    request: SignedInRequest, merchant: Merchant, order_id: int
) -> HttpResponse:
    order = _customer_order(request, merchant, order_id)
    lines = OrderLine.objects.filter(order=order).order_by("id")
    form = RefundRequestForm(
        request.POST or None,
        order_lines=lines,
        initial={"kind": RefundCase.Kind.ORDER},
    )
    status = 200
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        messages.error(request, _("This order cannot be refunded."))
        return redirect("storefront:order", slug=merchant.slug, order_id=order.pk)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            line = data.get("order_line")
            wanted = (
                []
                if data["kind"] == RefundCase.Kind.ORDER or line is None
                else [
                    RefundLineRequest(
                        order_line_id=line.pk,
                        quantity=data.get("quantity"),
                        amount=data.get("amount"),
                    )
                ]
            )
            try:
                case = refund_request(
                    merchant=merchant,
                    customer=request.user,
                    order_id=order.pk,
                    kind=data["kind"],
                    reason=data["reason"],
                    return_goods=data["return_goods"],
                    lines=wanted,
                )
            except DomainError as error:
                form.add_error(ERROR_FIELDS.get(error.code), error.message)
                status = error.status
            else:
                messages.success(request, _("Refund requested. The store will review it."))
                return redirect("storefront:refund", slug=merchant.slug, case_id=case.pk)
        else:
            status = 400
    return render_store(
        request,
        merchant,
        "storefront/refunds/request.html",
        {"order": order, "form": form, "lines": list(lines)},
        status,
    )


@require_GET
@store_view
@store_login_required
def refund_list(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    cases = (
        RefundCase.objects.filter(merchant=merchant, customer=request.user)
        .select_related("order")
        .order_by("-id")
    )
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    return render_store(request, merchant, "storefront/refunds/list.html", {"page": page})


def _case(request: SignedInRequest, merchant: Merchant, case_id: int) -> RefundCase:
    try:
        return refund_get_for_customer(merchant=merchant, customer=request.user, case_id=case_id)
    except NotFound as error:
        raise Http404(error.message) from error


@require_GET
@store_view
@store_login_required
def refund_detail(request: SignedInRequest, merchant: Merchant, case_id: int) -> HttpResponse:
    case = (
        RefundCase.objects.filter(pk=_case(request, merchant, case_id).pk)
        .select_related("order")
        .prefetch_related(
            Prefetch("lines", queryset=RefundCaseLine.objects.select_related("order_line")),
            Prefetch("status_changes", queryset=RefundStatusChange.objects.order_by("id")),
        )
        .get()
    )
    return render_store(
        request,
        merchant,
        "storefront/refunds/detail.html",
        {"case": case, "Status": RefundCase.Status},
    )


@require_POST
@store_view
@store_login_required
def refund_cancel_view(request: SignedInRequest, merchant: Merchant, case_id: int) -> HttpResponse:
    case = _case(request, merchant, case_id)
    try:
        refund_cancel(merchant=merchant, customer=request.user, case_id=case.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Refund request withdrawn."))
    return redirect("storefront:refund", slug=merchant.slug, case_id=case.pk)
