from dataclasses import asdict
from typing import cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.orders.api.serializers import StoreOrderSerializer
from apps.orders.models import Order, OrderLine
from apps.orders.services import Recipient
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .. import selectors, services
from ..models import LiveRoom
from .serializers import (
    LiveOrderCreateSerializer,
    LivePriceSerializer,
    LiveRoomProductSerializer,
    LiveRoomSerializer,
    MuteSerializer,
    PinSerializer,
    RoomFiguresSerializer,
    StoreLiveRoomSerializer,
)


@extend_schema(tags=["storefront"])
class StoreLiveRoomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """The store's live rooms (anyone may read them); ``orders/`` places an order from a room."""

    queryset = LiveRoom.objects.all()
    serializer_class = StoreLiveRoomSerializer
    permission_classes = [permissions.AllowAny]

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("merchant", "pinned")

    @extend_schema(request=LiveOrderCreateSerializer, responses={201: StoreOrderSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="orders",
        permission_classes=[permissions.IsAuthenticated],
    )
    def place_order(self, request: Request, store: str, pk: str) -> Response:
        room = self.get_object()
        serializer = LiveOrderCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.live_order_place(
            merchant=self.merchant,
            room_id=room.pk,
            customer=cast(User, request.user),
            lines=[(line["sku"].pk, line["quantity"]) for line in data["lines"]],
            recipient=Recipient(
                name=data["recipient_name"],
                phone=data["recipient_phone"],
                address=data["shipping_address"],
            ),
            note=data["note"],
            expected_total=data["expected_total"],
        )
        order = (
            Order.objects.filter(merchant=self.merchant, pk=order.pk)
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
            .get()
        )
        return Response(StoreOrderSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["merchant"])
class MerchantLiveRoomViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    MerchantStaffViewSet,
):
    """The merchant's live rooms: schedule, change, go live, end, pin, mute, figures. Products and
    live-only prices are set with ``products/`` and ``prices/``."""

    queryset = LiveRoom.objects.all()
    serializer_class = LiveRoomSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("merchant", "pinned").prefetch_related("products", "prices")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(merchant=self.merchant)

    def _room_data(self, room_id: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=room_id)).data

    @extend_schema(request=None, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        services.room_start(room=room, actor=cast(User, request.user))
        return Response(self._room_data(room.pk))

    @extend_schema(request=None, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        services.room_end(room=room, actor=cast(User, request.user))
        return Response(self._room_data(room.pk))

    @extend_schema(request=PinSerializer, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"])
    def pin(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        serializer = PinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.room_pin(
            room=room,
            product_id=serializer.validated_data["product"],
            actor=cast(User, request.user),
        )
        return Response(self._room_data(room.pk))

    @extend_schema(request=None, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"])
    def unpin(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        services.room_unpin(room=room, actor=cast(User, request.user))
        return Response(self._room_data(room.pk))

    @extend_schema(request=MuteSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def mute(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        serializer = MuteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_mute(
            room=room, user_id=serializer.validated_data["user"], actor=cast(User, request.user)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LiveRoomProductSerializer, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"], url_path="products")
    def add_product(self, request: Request, pk: str) -> Response:
        """Add a product to the room (or move it: ``position``)."""
        room = self.get_object()
        serializer = LiveRoomProductSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.room_product_add(
            room=room,
            product_id=serializer.validated_data["product"].pk,
            position=serializer.validated_data.get("position", 0),
        )
        return Response(self._room_data(room.pk))

    @extend_schema(request=LivePriceSerializer, responses=LiveRoomSerializer)
    @action(detail=True, methods=["post"], url_path="prices")
    def set_price(self, request: Request, pk: str) -> Response:
        """Set a SKU's live-only price (within its floor and ceiling; its product in the room)."""
        room = self.get_object()
        serializer = LivePriceSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.live_price_set(
            room=room,
            sku_id=serializer.validated_data["sku"].pk,
            price=serializer.validated_data["price"],
        )
        return Response(self._room_data(room.pk))

    @extend_schema(request=None, responses=RoomFiguresSerializer)
    @action(detail=True, methods=["get"])
    def figures(self, request: Request, pk: str) -> Response:
        room = self.get_object()
        return Response(RoomFiguresSerializer(asdict(selectors.room_figures(room=room))).data)
