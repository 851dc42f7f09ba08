from collections.abc import Mapping
from typing import cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.client_ip import request_client_ip
from apps.core.errors import DomainError
from apps.orders.models import Order
from apps.tenancy.api import StoreViewSet

from ..providers import ProviderError, provider_get, providers_for_merchant
from ..services import payment_start
from .serializers import PaymentStartSerializer


@extend_schema(tags=["storefront"])
class StoreOrderPaymentViewSet(StoreViewSet):
    """Paying one of the caller's orders in this store: ``orders/<id>/pay/``, next to the order
    routes of ``apps.orders.api`` (payments stands above orders, so the route lives here)."""

    queryset = Order.objects.all()

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(customer=self.request.user)

    @extend_schema(request=None, responses=PaymentStartSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, store: str, pk: str) -> Response:
        """Start paying an unpaid order: where to send the customer, and the trade number."""
        order = self.get_object()
        offered = providers_for_merchant(merchant_id=self.merchant.pk)
        if not isinstance(request.data, Mapping):
            raise DomainError(_("Send a JSON object."), code="invalid")
        provider = str(request.data.get("provider") or (offered[0] if offered else "sandbox"))
        if provider not in offered:
            raise DomainError(
                _("This payment method is not available."), code="provider_unavailable"
            )
        payment = payment_start(
            merchant=self.merchant,
            customer=cast(User, request.user),
            order_id=order.pk,
            provider=provider,
            client_ip=request_client_ip(request),
        )
        try:
            checkout_url = request.build_absolute_uri(
                provider_get(payment.provider).checkout_url(payment)
            )
        except ProviderError as error:
            raise DomainError(
                _("The payment provider did not answer. Please try again in a moment."),
                code="provider_error",
                status=503,
            ) from error
        data = {
            "out_trade_no": payment.out_trade_no,
            "provider": payment.provider,
            "amount": payment.amount,
            "checkout_url": checkout_url,
        }
        return Response(PaymentStartSerializer(data).data)
