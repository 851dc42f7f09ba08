"""What every step of a refund case shares: its states and the one transition helper, the lock
protocol, what an order still allows to refund, the reason given, and who may reach a case.

Lock protocol (shared with commission release and settlement): every path that changes what is
refunded, or that releases commission on an order, first locks the ORDER row, then the case, then
the commission records (id order), then wallets (distributor id order). So a request, an approval,
a provider notification and beat's release of a record on the same order run one after the other,
and each sees what the previous one committed.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import DomainError, NotFound
from apps.core.money import ZERO
from apps.core.state import transition
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderLine
from apps.payments.providers import PaymentProvider, ProviderUnavailable, provider_get

from ..events import RefundStatusChanged
from ..models import RefundCase, RefundCaseLine, RefundStatusChange

S = RefundCase.Status
K = RefundCase.Kind
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    # approved → refunded: the notification may overtake the recording of the provider's answer.
    S.APPROVED: frozenset({S.REFUNDING, S.REFUNDED, S.FAILED}),
    S.REFUNDING: frozenset({S.REFUNDED, S.FAILED}),
    S.REJECTED: frozenset(),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}
REFUNDABLE_ORDER_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED)
MAX_REASON = 255


@dataclass(frozen=True)
class LineRefundable:
    """What is left to refund on one order line."""

    line: OrderLine
    amount: Decimal  # paid amount not held by an open or refunded case
    units: int  # units not held by an open or refunded case
    units_held: int


def lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def lock_case(case: RefundCase) -> RefundCase:
    """Lock the case's order, then the case (the lock protocol); the case as it is now."""
    lock_order(case.order_id)
    return RefundCase.objects.select_for_update().get(pk=case.pk)


def _held_by_line(order_id: int) -> dict[int, tuple[Decimal, int]]:
    """(amount, units) per order line held by open or refunded cases."""
    rows = (
        RefundCaseLine.objects.filter(
            case__order_id=order_id, case__status__in=RefundCase.HOLDING_STATUSES
        )
        .values("order_line_id")
        .annotate(amount=Sum("amount"), units=Sum("quantity"))
    )
    return {row["order_line_id"]: (row["amount"], row["units"]) for row in rows}


def refundable_lines(*, order: Order) -> list[LineRefundable]:
    """What each line of the order still allows to refund (exact only under the order lock)."""
    held = _held_by_line(order.pk)
    result = []
    for line in OrderLine.objects.filter(order=order).order_by("id"):
        amount, units = held.get(line.pk, (ZERO, 0))
        result.append(
            LineRefundable(
                line=line,
                amount=line.paid_amount - amount,
                units=line.quantity - units,
                units_held=units,
            )
        )
    return result


def checked_reason(value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Please give a reason."), code="reason_required")
    if len(value) > MAX_REASON:
        raise DomainError(_("The reason is too long."), code="reason_too_long")
    return value


def _status_changed(case: RefundCase) -> None:
    events.publish(
        RefundStatusChanged(
            merchant_id=case.merchant_id, refund_case_id=case.pk, status=case.status
        )
    )


def case_opened(case: RefundCase, actor: User | None, reason: str) -> None:
    """The first history row of a new case, and the news of it."""
    RefundStatusChange.objects.create(
        merchant_id=case.merchant_id,
        case=case,
        from_status="",
        to_status=case.status,
        actor=actor,
        reason=reason[:MAX_REASON],
    )
    _status_changed(case)


def refund_transition(
    *, case: RefundCase, new: str, actor: User | None = None, reason: str = "", **updates
) -> bool:
    """Apply one transition as compare-and-swap from ``case.status`` with a history row; True if
    applied. Runs inside a transaction."""
    applied = transition(
        case,
        new,
        transitions=REFUND_TRANSITIONS,
        history=RefundStatusChange,
        history_field="case",
        actor=actor,
        reason=reason[:MAX_REASON],
        **updates,
    )
    if applied:
        _status_changed(case)
    return applied


def refund_get_for_customer(*, merchant: Merchant, customer: User, case_id: int) -> RefundCase:
    case = RefundCase.objects.filter(merchant=merchant, customer=customer, pk=case_id).first()
    if case is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    return case


def refund_get_for_merchant(*, merchant: Merchant, case_id: int) -> RefundCase:
    case = RefundCase.objects.filter(merchant=merchant, pk=case_id).first()
    if case is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    return case


def case_with_provider(
    case_id: int, *, status: str
) -> tuple[RefundCase | None, PaymentProvider | None]:
    """The case while it is in ``status``, and its provider while that is enabled."""
    case = RefundCase.objects.select_related("payment").get(pk=case_id)
    if case.status != status:
        return None, None
    try:
        return case, provider_get(case.provider)
    except ProviderUnavailable:
        return case, None
