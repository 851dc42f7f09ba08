"""The sandbox provider's pay page and every provider's asynchronous notification callback."""

import json
import secrets
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound

from .events import RefundNotificationReceived
from .models import Payment
from .providers import ProviderUnavailable, provider_get
from .providers.sandbox import SandboxProvider
from .services import (
    payment_check_payable,
    payment_get_for_customer,
    payment_handle_notification,
)
from .tasks import sandbox_deliver_notification


def _order_url(payment: Payment) -> str:
    return reverse(
        "storefront:order",
        kwargs={"slug": payment.order.merchant.slug, "order_id": payment.order_id},
    )


@login_required
def sandbox_pay(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """Plays the provider's checkout page. Only the payment's own customer may open it, and only
    while the order still awaits payment."""
    try:
        payment = payment_get_for_customer(
            customer=cast(User, request.user), out_trade_no=out_trade_no
        )
    except NotFound as error:
        raise Http404(error.message) from error
    try:
        provider = provider_get(payment.provider)
    except ProviderUnavailable as error:
        raise Http404(_("No such payment.")) from error
    if not isinstance(provider, SandboxProvider):
        raise Http404(_("No such payment."))
    try:
        payment_check_payable(payment=payment)
    except Conflict as error:
        if error.code != "already_paid":
            messages.error(request, error.message)
        return redirect(_order_url(payment))
    merchant = payment.order.merchant
    if request.method == "POST":
        provider_trade_no = provider.record_payment(payment, "SBX" + secrets.token_hex(12).upper())
        payment_id = payment.pk
        transaction.on_commit(
            lambda: sandbox_deliver_notification.delay(payment_id, provider_trade_no)
        )
        return redirect(_order_url(payment) + "?confirming=1")
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "payments/sandbox_pay.html",
        {
            "payment": payment,
            "order": payment.order,
            "merchant": merchant,
            "order_url": _order_url(payment),
        },
    )


def _json_error(error: DomainError) -> HttpResponse:
    return HttpResponse(
        json.dumps({"detail": error.message, "code": error.code}),
        status=error.status,
        content_type="application/json",
    )


@csrf_exempt
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's asynchronous notification: verified, idempotent, acknowledged when handled."""
    try:
        payment_handle_notification(
            provider=provider,
            body=request.body,
            # HttpHeaders, not a dict: providers look their headers up case-insensitively.
            headers=cast("dict[str, str]", request.headers),
        )
    except DomainError as error:
        if error.code == "refund_notification":
            # Alipay notifies a refund on the trade's own callback.
            return refund_notify(request, provider)
        return _json_error(error)
    content_type, body = provider_get(provider).acknowledgement()
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
@require_POST
def refund_notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's asynchronous refund notification: verified, idempotent, acknowledged."""
    try:
        # Refunds, above payments, handles it (``apps.refunds.handlers``); its errors come back.
        events.publish(
            RefundNotificationReceived(
                provider=provider,
                body=request.body,
                headers=cast("dict[str, str]", request.headers),
            )
        )
    except DomainError as error:
        return _json_error(error)
    content_type, body = provider_get(provider).acknowledgement()
    return HttpResponse(body, content_type=content_type)
