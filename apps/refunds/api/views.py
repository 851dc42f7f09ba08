from typing import cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.refunds.models import RefundCase, RefundCaseLine, RefundStatusChange
from apps.refunds.services import (
    RefundLineRequest,
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    MerchantRefundSerializer,
    RefundCreateSerializer,
    RefundDecisionSerializer,
    RefundRejectSerializer,
    RefundStatusFilterSerializer,
    StoreRefundSerializer,
)


def _with_details(queryset: QuerySet) -> QuerySet:
    return (
        queryset.select_related("order")
        .prefetch_related(
            Prefetch("lines", queryset=RefundCaseLine.objects.select_related("order_line")),
            Prefetch("status_changes", queryset=RefundStatusChange.objects.order_by("id")),
        )
        .order_by("-id")
    )


@extend_schema(tags=["storefront"])
class StoreRefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """售后: the caller's refund cases in this store."""

    queryset = RefundCase.objects.all()
    serializer_class = StoreRefundSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return _with_details(queryset.filter(customer=self.request.user))

    @extend_schema(request=RefundCreateSerializer, responses={201: StoreRefundSerializer})
    def create(self, request: Request, store: str) -> Response:
        """Ask for a refund of a paid, shipped or completed order."""
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = refund_request(
            merchant=self.merchant,
            customer=cast(User, request.user),
            order_id=data["order"],
            kind=data["kind"],
            reason=data["reason"],
            return_goods=data["return_goods"],
            lines=[
                RefundLineRequest(
                    order_line_id=line["order_line"],
                    quantity=line.get("quantity"),
                    amount=line.get("amount"),
                )
                for line in data["lines"]
            ],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=case.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=StoreRefundSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, store: str, pk: str) -> Response:
        """Withdraw a request the merchant has not decided yet."""
        case = self.get_object()
        refund_cancel(merchant=self.merchant, customer=cast(User, request.user), case_id=case.pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)


@extend_schema(tags=["merchant"])
class MerchantRefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet):
    """The merchant's refund cases; ``?status=`` filters. Approve (the provider refunds) or reject
    with a reason."""

    queryset = RefundCase.objects.all()
    serializer_class = MerchantRefundSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return _with_details(queryset)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        params = RefundStatusFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        if "status" in params.validated_data:
            queryset = queryset.filter(status=params.validated_data["status"])
        return queryset

    @extend_schema(parameters=[RefundStatusFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RefundDecisionSerializer, responses=MerchantRefundSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve: the provider is asked to refund (once, however often this is sent)."""
        case = self.get_object()
        serializer = RefundDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund_approve(
            merchant=self.merchant,
            case_id=case.pk,
            actor=cast(User, request.user),
            reason=serializer.validated_data.get("reason", ""),
            supply_borne_by=serializer.validated_data.get("supply_borne_by"),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)

    @extend_schema(request=RefundRejectSerializer, responses=MerchantRefundSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject with a reason the customer sees."""
        case = self.get_object()
        serializer = RefundRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund_reject(
            merchant=self.merchant,
            case_id=case.pk,
            actor=cast(User, request.user),
            reason=serializer.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)
