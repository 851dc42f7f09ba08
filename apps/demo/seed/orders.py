"""The demo's orders, one per state a customer meets: each goes cart → order and, as far as its
outcome says, through a sandbox payment with its signed notification, shipping, completion and
settlement."""

from dataclasses import dataclass

from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.models import User
from apps.commissions.services import commission_settle_orders
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import (
    Recipient,
    cart_add_item,
    order_cancel,
    order_complete,
    order_place_from_cart,
    order_ship,
)
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku

from .merchants import STORE_STAFF
from .world import FRUIT, TEA, DemoWorld

RECIPIENTS = {
    "alice": Recipient("李爱丽", "13800138001", "上海市徐汇区漕溪北路 88 号 1201 室"),
    "bob": Recipient("王博", "13800138002", "北京市朝阳区建国路 93 号万达广场 B 座 1605"),
    "carol": Recipient("陈可", "13800138003", "广州市天河区体育西路 191 号 2 栋 702"),
}

PENDING, PAID, SHIPPED = "pending_payment", "paid", "shipped"
COMPLETED, RELEASED, CANCELLED = "completed", "completed_released", "cancelled"


@dataclass(frozen=True)
class DemoOrder:
    store: str
    customer: str
    lines: tuple[tuple[str, int], ...]
    outcome: str
    note: str = ""


ORDERS = [
    # Completed weeks ago: its commission (tea_d4 L1, tea_d3 L2, tea_d2 L3) is already available.
    DemoOrder(TEA, "alice", (("TEA-LJ-50", 2), ("TEA-RY-TQ", 1)), RELEASED, "送朋友的，请包装好"),
    # Completed today: the same three distributors' commission is frozen for the plan's freeze days.
    DemoOrder(TEA, "alice", (("TEA-TGY-125", 1), ("TEA-BMD-300", 1)), COMPLETED),
    DemoOrder(TEA, "bob", (("TEA-PE-2016", 1),), SHIPPED),
    DemoOrder(TEA, "carol", (("TEA-DHP-100", 2),), CANCELLED),
    DemoOrder(FRUIT, "carol", (("FR-CM-2", 1), ("FR-YG-2", 1)), COMPLETED),
    DemoOrder(FRUIT, "bob", (("FR-QC-10", 1), ("FR-PG-5", 1)), PAID, "工作日白天送货"),
    DemoOrder(FRUIT, "carol", (("FR-MG-5", 1),), PENDING),
]
SHIPPING = {TEA: ("顺丰速运", "SF"), FRUIT: ("京东物流", "JD")}


def run_order(world: DemoWorld, index: int) -> None:
    spec = ORDERS[index]
    merchant, customer = world.merchants[spec.store], world.users[spec.customer]
    for code, quantity in spec.lines:
        sku_id = Sku.objects.get(merchant=merchant, code=code).pk
        cart_add_item(merchant=merchant, customer=customer, sku_id=sku_id, quantity=quantity)
    order = order_place_from_cart(
        merchant=merchant,
        customer=customer,
        recipient=RECIPIENTS[spec.customer],
        note=spec.note,
    )
    world.orders[index] = order
    if spec.outcome == PENDING:
        return
    if spec.outcome == CANCELLED:
        order_cancel(order=order, actor=customer, reason="买错规格了，重新下单")
        return
    _pay(merchant=merchant, customer=customer, order=order)
    if spec.outcome == PAID:
        return
    carrier, prefix = SHIPPING[spec.store]
    order = order_ship(
        merchant=merchant,
        order_id=order.pk,
        carrier=carrier,
        tracking_number=f"{prefix}{order.number[-12:]}",
        actor=world.users[STORE_STAFF[spec.store]],
    )
    if spec.outcome == SHIPPED:
        return
    order_complete(order=order, actor=customer, reason="confirmed by customer")
    commission_settle_orders(order_id=order.pk)


def _pay(*, merchant: Merchant, customer: User, order: Order) -> None:
    """What the sandbox provider does: a payment, then its signed asynchronous notification."""
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body = sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no=f"SBX{order.number}",
        amount=payment.amount,
        paid_at=timezone.now(),
    )
    outcome = payment_handle_notification(
        provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
    )
    if outcome != "paid":
        raise CommandError(f"The sandbox payment of order {order.number} was {outcome!r}.")
