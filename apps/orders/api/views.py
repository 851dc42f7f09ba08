from typing import cast

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.orders.models import Cart, CartItem, Order, OrderLine, OrderStatusChange
from apps.orders.selectors import cart_items_price, cart_summary
from apps.orders.services import (
    Discounts,
    Recipient,
    cart_add_item,
    cart_remove_item,
    cart_set_quantity,
    order_cancel,
    order_confirm_receipt,
    order_place,
    order_place_from_cart,
    order_ship,
)
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    CartItemCreateSerializer,
    CartItemQuantitySerializer,
    CartItemSerializer,
    CartSerializer,
    DiscountChoiceSerializer,
    MerchantOrderSerializer,
    OrderCreateSerializer,
    OrderShipSerializer,
    OrderStatusFilterSerializer,
    StoreOrderSerializer,
)


class _CallerMixin(viewsets.GenericViewSet):
    @property
    def caller(self) -> User:
        """The signed-in caller (the default permission refuses anonymous callers)."""
        return cast(User, self.request.user)


# --- Cart -------------------------------------------------------------------------------------


@extend_schema(tags=["storefront"])
class CartViewSet(StoreViewSet):
    """The caller's cart in this store (``GET cart/``)."""

    queryset = Cart.objects.all()
    serializer_class = CartSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(customer=self.request.user)

    @extend_schema(operation_id="v1_stores_cart_retrieve", responses=CartSerializer)
    def current(self, request: Request, store: str) -> Response:
        summary = cart_summary(merchant=self.merchant, customer=cast(User, request.user))
        return Response(self.get_serializer(summary).data)

    @extend_schema(
        operation_id="v1_stores_cart_quote",
        request=DiscountChoiceSerializer,
        responses=CartSerializer,
    )
    def quote(self, request: Request, store: str) -> Response:
        """The cart priced as checkout would charge it with the chosen coupon (empty: the best
        usable, "none": none) and points; writes nothing. A coupon or points that cannot be used
        are refused as placing the order would refuse them (4xx with a code)."""
        choice = DiscountChoiceSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        summary = cart_summary(
            merchant=self.merchant,
            customer=cast(User, request.user),
            coupon=choice.validated_data["coupon"],
            points=choice.validated_data["points"],
        )
        return Response(self.get_serializer(summary).data)


@extend_schema(tags=["storefront"])
class CartItemViewSet(_CallerMixin, StoreViewSet):
    """Lines of the caller's cart: add a SKU, change a quantity, remove a line."""

    queryset = CartItem.objects.all()
    serializer_class = CartItemSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(cart__customer=self.request.user).select_related("sku__product")

    @extend_schema(request=CartItemCreateSerializer, responses={201: CartItemSerializer})
    def create(self, request: Request, store: str) -> Response:
        """Add ``quantity`` of a SKU (added to what the cart already holds of it)."""
        serializer = CartItemCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        item = cart_add_item(
            merchant=self.merchant,
            customer=self.caller,
            sku_id=serializer.validated_data["sku"].pk,
            quantity=serializer.validated_data["quantity"],
            shop_code=serializer.validated_data["shop"] or None,
        )
        return Response(self._item_data(item.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=CartItemQuantitySerializer, responses=CartItemSerializer)
    def partial_update(self, request: Request, store: str, pk: str) -> Response:
        """Set the quantity of one line."""
        item = self.get_object()
        serializer = CartItemQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart_set_quantity(
            merchant=self.merchant,
            customer=self.caller,
            item_id=item.pk,
            quantity=serializer.validated_data["quantity"],
        )
        return Response(self._item_data(item.pk))

    def destroy(self, request: Request, store: str, pk: str) -> Response:
        item = self.get_object()
        cart_remove_item(merchant=self.merchant, customer=self.caller, item_id=item.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _item_data(self, item_id: int) -> dict:
        item = self.get_queryset().select_related("agency_distributor").get(pk=item_id)
        cart_items_price(merchant=self.merchant, customer=self.caller, items=[item])
        return self.get_serializer(item).data


# --- Orders (customer) ------------------------------------------------------------------------


@extend_schema(tags=["storefront"])
class StoreOrderViewSet(
    _CallerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet
):
    """The caller's orders in this store."""

    queryset = Order.objects.all()
    serializer_class = StoreOrderSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.filter(customer=self.request.user)
            .prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.order_by("id")), "lines__adjustments"
            )
            .order_by("-id")
        )

    @extend_schema(request=OrderCreateSerializer, responses={201: StoreOrderSerializer})
    def create(self, request: Request, store: str) -> Response:
        """Place an order: from the cart, or for explicit ``lines`` ("buy now")."""
        serializer = OrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recipient = Recipient(
            name=data["recipient_name"],
            phone=data["recipient_phone"],
            address=data["shipping_address"],
        )
        discounts = Discounts(coupon=data["coupon"], points=data["points"])
        if "lines" in data:
            order = order_place(
                merchant=self.merchant,
                customer=self.caller,
                lines=[(line["sku"].pk, line["quantity"]) for line in data["lines"]],
                recipient=recipient,
                note=data["note"],
                shop_code=data["shop"] or None,
                expected_total=data["expected_total"],
                discounts=discounts,
            )
        else:
            order = order_place_from_cart(
                merchant=self.merchant,
                customer=self.caller,
                recipient=recipient,
                note=data["note"],
                expected_total=data["expected_total"],
                discounts=discounts,
            )
        return Response(self._order_data(order.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=StoreOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, store: str, pk: str) -> Response:
        """Cancel an unpaid order (its stock is released)."""
        order = self.get_object()
        if not order_cancel(order=order, actor=self.caller, reason="cancelled by customer"):
            raise Conflict(_("This order changed meanwhile; reload it."), code="invalid_transition")
        return Response(self._order_data(order.pk))

    @extend_schema(request=None, responses=StoreOrderSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-receipt")
    def confirm_receipt(self, request: Request, store: str, pk: str) -> Response:
        """Confirm a shipped order arrived: the order completes and commission is settled."""
        order = self.get_object()
        order_confirm_receipt(merchant=self.merchant, customer=self.caller, order_id=order.pk)
        return Response(self._order_data(order.pk))

    def _order_data(self, order_id: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=order_id)).data


# --- Orders (merchant back office) ------------------------------------------------------------


@extend_schema(tags=["merchant"])
class MerchantOrderViewSet(
    _CallerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet
):
    """The merchant's orders with lines, upline snapshot and history; ``?status=`` filters."""

    queryset = Order.objects.all()
    serializer_class = MerchantOrderSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.select_related("customer")
            .prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
                "lines__adjustments",
                Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("id")),
            )
            .order_by("-id")
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.action != "list":
            return queryset
        params = OrderStatusFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        if "status" in params.validated_data:
            queryset = queryset.filter(status=params.validated_data["status"])
        return queryset

    @extend_schema(parameters=[OrderStatusFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().list(request, *args, **kwargs)

    @extend_schema(request=OrderShipSerializer, responses=MerchantOrderSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str) -> Response:
        """发货: record the carrier and tracking number of a paid order."""
        order = self.get_object()
        serializer = OrderShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_ship(
            merchant=self.merchant,
            order_id=order.pk,
            carrier=serializer.validated_data["carrier"],
            tracking_number=serializer.validated_data["tracking_number"],
            actor=self.caller,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)
