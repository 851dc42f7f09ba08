"""Domain events of the apps below, told to the merchant's integrators (apps/core/events.py).

Each handler runs in the publisher's transaction: it writes the deliveries there (a rolled-back
change leaves none) and enqueues them on commit. Payloads carry ids and the figures an integrator
needs, never personal data (recipients' names, phones and addresses stay in the API behind auth).
"""

from typing import Any

from apps.commissions.events import CommissionReleased, CommissionSettled
from apps.commissions.models import CommissionRecord
from apps.core import events
from apps.distributors.events import DistributorJoined
from apps.distributors.models import Distributor
from apps.orders.events import OrderCancelled, OrderCompleted, OrderPaid, OrderShipped
from apps.orders.models import Order
from apps.refunds.events import RefundStatusChanged
from apps.refunds.models import RefundCase
from apps.withdrawals.events import WithdrawalStatusChanged
from apps.withdrawals.models import Withdrawal

from .models import EVENT_TYPES
from .selectors import merchant_has_endpoints, merchants_with_endpoints
from .services import webhook_event_publish
from .tasks import webhooks_enqueue_on_commit


def _publish(merchant_id: int, event_type: str, data: Any) -> None:
    if not merchant_has_endpoints(merchant_id=merchant_id):
        return
    webhooks_enqueue_on_commit(
        webhook_event_publish(merchant_id=merchant_id, event_type=event_type, data=data())
    )


def _order(order_id: int) -> dict[str, Any]:
    order = Order.objects.get(pk=order_id)
    return {
        "order": {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "goods_amount": order.goods_amount,
            "discount_amount": order.discount_amount,
            "shipping_amount": order.shipping_amount,
            "payable_amount": order.payable_amount,
            "paid_at": order.paid_at,
            "shipped_at": order.shipped_at,
            "shipping_carrier": order.shipping_carrier,
            "tracking_number": order.tracking_number,
            "completed_at": order.completed_at,
        }
    }


@events.handler(OrderPaid)
def order_paid(event: OrderPaid) -> None:
    _publish(event.merchant_id, "order.paid", lambda: _order(event.order_id))


@events.handler(OrderShipped)
def order_shipped(event: OrderShipped) -> None:
    _publish(event.merchant_id, "order.shipped", lambda: _order(event.order_id))


@events.handler(OrderCompleted)
def order_completed(event: OrderCompleted) -> None:
    _publish(event.merchant_id, "order.completed", lambda: _order(event.order_id))


@events.handler(OrderCancelled)
def order_cancelled(event: OrderCancelled) -> None:
    _publish(event.merchant_id, "order.cancelled", lambda: _order(event.order_id))


def _refund(case_id: int) -> dict[str, Any]:
    case = RefundCase.objects.get(pk=case_id)
    return {
        "refund": {
            "id": case.pk,
            "order_id": case.order_id,
            "kind": case.kind,
            "status": case.status,
            "amount": case.amount,
            "goods_amount": case.goods_amount,
            "shipping_amount": case.shipping_amount,
        }
    }


@events.handler(RefundStatusChanged)
def refund_status_changed(event: RefundStatusChanged) -> None:
    """refund.requested, .approved, .rejected, .refunded, .failed, .cancelled (the step handing
    the refund to the provider, "refunding", is the house's own)."""
    event_type = f"refund.{event.status}"
    if event_type in EVENT_TYPES:
        _publish(event.merchant_id, event_type, lambda: _refund(event.refund_case_id))


def _records(order_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": record.pk,
            "order_id": record.order_id,
            "order_line_id": record.order_line_id,
            "distributor_id": record.beneficiary_id,
            "level": record.level,
            "kind": record.kind,
            "amount": record.amount,
            "reversed_amount": record.reversed_amount,
            "status": record.status,
        }
        for record in CommissionRecord.objects.filter(order_id=order_id).order_by("pk")
    ]


def _commission(event_type: str, order_ids: tuple[int, ...]) -> None:
    """One event per order; a batch of a settlement or release costs one query when none of its
    merchants has an endpoint."""
    for order_id, merchant_id in (
        Order.objects.filter(pk__in=order_ids, merchant_id__in=merchants_with_endpoints())
        .order_by("pk")
        .values_list("pk", "merchant_id")
    ):
        webhooks_enqueue_on_commit(
            webhook_event_publish(
                merchant_id=merchant_id,
                event_type=event_type,
                data={"order_id": order_id, "records": _records(order_id)},
            )
        )


@events.handler(CommissionSettled)
def commission_settled(event: CommissionSettled) -> None:
    _commission("commission.settled", event.order_ids)


@events.handler(CommissionReleased)
def commission_released(event: CommissionReleased) -> None:
    _commission("commission.released", event.order_ids)


def _withdrawal(withdrawal_id: int) -> dict[str, Any]:
    withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
    return {
        "withdrawal": {
            "id": withdrawal.pk,
            "distributor_id": withdrawal.distributor_id,
            "supplier_id": withdrawal.supplier_id,
            "status": withdrawal.status,
            "amount": withdrawal.amount,
            "fee": withdrawal.fee,
            "tax": withdrawal.tax,
            "net": withdrawal.net,
        }
    }


@events.handler(WithdrawalStatusChanged)
def withdrawal_status_changed(event: WithdrawalStatusChanged) -> None:
    """withdrawal.requested, .approved, .rejected, .paid, .failed ("paying" is the house's own)."""
    event_type = f"withdrawal.{event.status}"
    if event_type in EVENT_TYPES:
        _publish(event.merchant_id, event_type, lambda: _withdrawal(event.withdrawal_id))


@events.handler(DistributorJoined)
def distributor_joined(event: DistributorJoined) -> None:
    def data() -> dict[str, Any]:
        distributor = Distributor.objects.get(pk=event.distributor_id)
        return {
            "distributor": {
                "id": distributor.pk,
                "invite_code": distributor.invite_code,
                "parent_id": distributor.parent_id,
                "level": distributor.level,
                "joined_at": distributor.joined_at,
            }
        }

    _publish(event.merchant_id, "distributor.joined", data)
