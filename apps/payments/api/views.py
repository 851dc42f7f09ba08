from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.orders.models import Order
from apps.tenancy.api import StoreViewSet

from ..providers import provider_get
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
        payment = payment_start(
            merchant=self.merchant, customer=cast(User, request.user), order_id=order.pk
        )
        checkout_url = request.build_absolute_uri(
            provider_get(payment.provider).checkout_url(payment)
        )
        data = {
            "out_trade_no": payment.out_trade_no,
            "provider": payment.provider,
            "amount": payment.amount,
            "checkout_url": checkout_url,
        }
        return Response(PaymentStartSerializer(data).data)
