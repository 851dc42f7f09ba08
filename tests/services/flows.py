"""Steps of the order journey through the services, shared by the service, concurrency, worker
and API tests."""

from datetime import UTC, datetime
from decimal import Decimal

from apps.accounts.models import User
from apps.distributors.models import Distributor
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import Recipient, order_complete, order_place, order_ship
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from apps.programme.binding import customer_bind

RECIPIENT = Recipient(name="Li Lei", phone="13800000000", address="1 Nanjing Road, Shanghai")
PAID_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def signed_notification(
    payment: Payment, *, amount: Decimal | None = None, provider_trade_no: str = "SANDBOX-0001"
) -> tuple[bytes, dict[str, str]]:
    """The sandbox provider's notification for ``payment`` (body, headers), correctly signed."""
    body = sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no=provider_trade_no,
        amount=payment.amount if amount is None else amount,
        paid_at=PAID_AT,
    )
    return body, {SIGNATURE_HEADER: sandbox_sign(body)}


def bind(*, merchant: Merchant, customer: User, distributor: Distributor) -> None:
    customer_bind(merchant=merchant, customer=customer, invite_code=distributor.invite_code)


def place(*, merchant: Merchant, customer: User, lines: list[tuple[Sku, int]]) -> Order:
    return order_place(
        merchant=merchant,
        customer=customer,
        lines=[(sku.pk, quantity) for sku, quantity in lines],
        recipient=RECIPIENT,
    )


def pay(*, merchant: Merchant, customer: User, order: Order) -> Payment:
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(payment)
    assert payment_handle_notification(provider="sandbox", body=body, headers=headers) == "paid"
    payment.refresh_from_db()
    order.refresh_from_db()
    return payment


def ship(*, merchant: Merchant, order: Order) -> Order:
    order_ship(
        merchant=merchant,
        order_id=order.pk,
        carrier="SF Express",
        tracking_number="SF100",
        actor=None,
    )
    order.refresh_from_db()
    return order


def paid_order(*, merchant: Merchant, customer: User, lines: list[tuple[Sku, int]]) -> Order:
    """An order placed and paid through the sandbox provider's signed notification."""
    order = place(merchant=merchant, customer=customer, lines=lines)
    pay(merchant=merchant, customer=customer, order=order)
    return order


def shipped_order(*, merchant: Merchant, customer: User, lines: list[tuple[Sku, int]]) -> Order:
    return ship(
        merchant=merchant, order=paid_order(merchant=merchant, customer=customer, lines=lines)
    )


def completed_order(*, merchant: Merchant, customer: User, lines: list[tuple[Sku, int]]) -> Order:
    """An order taken to completed (its settlement enqueue runs only if the caller commits)."""
    order = shipped_order(merchant=merchant, customer=customer, lines=lines)
    assert order_complete(order=order) is True
    order.refresh_from_db()
    return order
