from typing import cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.orders.models import Order, OrderLine
from apps.orders.services import Recipient
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .. import selectors, services
from ..models import Group, GroupBuy, GroupMember
from .serializers import (
    GroupSerializer,
    MerchantGroupBuySerializer,
    SeatCreateSerializer,
    SeatSerializer,
    StoreGroupBuySerializer,
)


def _seat_response(view: StoreViewSet, member: GroupMember) -> Response:
    order = (
        Order.objects.filter(merchant=view.merchant, pk=member.order_id)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .get()
    )
    group = Group.objects.get(pk=member.group_id)
    return Response(
        SeatSerializer({"group": group, "order": order}).data, status=status.HTTP_201_CREATED
    )


def _seat_input(request: Request) -> tuple[int, Recipient]:
    serializer = SeatCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    recipient = Recipient(
        name=data["recipient_name"],
        phone=data["recipient_phone"],
        address=data["shipping_address"],
    )
    return data["quantity"], recipient


@extend_schema(tags=["storefront"])
class StoreGroupBuyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """The store's running group buys (拼团), each with the groups open to join; ``open/`` opens a
    group (an order at the group price, to pay; the group opens once it is paid)."""

    queryset = GroupBuy.objects.all()
    serializer_class = StoreGroupBuySerializer
    permission_classes = [permissions.AllowAny]

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.group_buys_running(merchant=self.merchant)

    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        page = self.paginate_queryset(self.get_queryset())
        campaigns = list(page if page is not None else self.get_queryset())
        selectors.attach_joinable_groups(merchant=self.merchant, campaigns=campaigns)
        data = self.get_serializer(campaigns, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        campaign = self.get_object()
        selectors.attach_joinable_groups(merchant=self.merchant, campaigns=[campaign])
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=SeatCreateSerializer, responses={201: SeatSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def open(self, request: Request, store: str, pk: str) -> Response:
        campaign = self.get_object()
        quantity, recipient = _seat_input(request)
        member = services.group_open(
            merchant=self.merchant,
            customer=cast(User, request.user),
            campaign_id=campaign.pk,
            quantity=quantity,
            recipient=recipient,
        )
        return _seat_response(self, member)


@extend_schema(tags=["storefront"])
class StoreGroupViewSet(mixins.RetrieveModelMixin, StoreViewSet):
    """One group of the store (anyone may read it, to share it); ``join/`` takes a seat: an order
    at the group price, placed only while a seat is free (409 ``group_full`` / ``group_closed``
    otherwise, and nothing is written)."""

    queryset = Group.objects.all()
    serializer_class = GroupSerializer
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=SeatCreateSerializer, responses={201: SeatSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def join(self, request: Request, store: str, pk: str) -> Response:
        group = self.get_object()
        quantity, recipient = _seat_input(request)
        member = services.group_join(
            merchant=self.merchant,
            customer=cast(User, request.user),
            group_id=group.pk,
            quantity=quantity,
            recipient=recipient,
        )
        return _seat_response(self, member)


@extend_schema(tags=["merchant"])
class MerchantGroupBuyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, MerchantStaffViewSet
):
    """The merchant's group-buy campaigns: a SKU at a group price, the group size, the hours a
    group has to fill, the window in which groups may be opened, the per-person limit."""

    queryset = GroupBuy.objects.all()
    serializer_class = MerchantGroupBuySerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("-starts_at", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data  # type: ignore[attr-defined]
        serializer.instance = services.groupbuy_create(merchant=self.merchant, **data)


@extend_schema(tags=["merchant"])
class MerchantGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet):
    """The merchant's groups (open, full, failed…), newest first."""

    queryset = Group.objects.all()
    serializer_class = GroupSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("-id")
