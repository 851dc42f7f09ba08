"""What the money machine expects: its own records of payments, orders and commission."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from apps.commissions.models import CommissionRecord
from apps.orders.models import Order
from apps.orders.services import (
    Recipient,
)
from apps.payments.models import Payment

S = Order.Status
RECIPIENT = Recipient(name="Li Lei", phone="13800000000", address="1 Nanjing Road, Shanghai")
PAID_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
MAX_DISTRIBUTORS = 8
PAID_ONWARD = {S.PAID, S.SHIPPED, S.COMPLETED}

MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,  # implies database=None: the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)


def _event(value: str) -> None:
    """Hypothesis' ``event`` (coverage statistics), ignored outside a Hypothesis run."""
    with contextlib.suppress(InvalidArgument):
        event(value)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
percent = st.decimals(min_value=Decimal("0"), max_value=Decimal("20"), places=2)


def _has_order(*statuses):
    """Precondition: some order exists (in one of ``statuses``, if given)."""

    def check(machine) -> bool:
        return any(not statuses or o.status in statuses for o in machine.orders)

    return check


@dataclass(eq=False)
class PaymentM:
    pk: int
    out_trade_no: str
    amount: Decimal
    order: OrderM
    status: str = Payment.Status.PENDING
    provider_trade_no: str = ""


@dataclass(eq=False)
class OrderM:
    index: int
    pk: int
    buyer: int  # index into machine.users
    quantities: dict[int, int]  # SKU index -> units
    amount: Decimal
    snapshot: tuple[int | None, int | None, int | None]  # distributor pks, levels 1-3
    lines: dict[int, Decimal]  # order line pk -> paid amount
    status: str = S.PENDING_PAYMENT
    transitions: int = 1  # history rows, the creation included
    commission_status: str = Order.CommissionStatus.NONE
    completed_at: datetime | None = None
    payments: list[PaymentM] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"order#{self.index}({self.status})"


@dataclass
class RecordM:
    order: OrderM
    amount: Decimal
    base: Decimal
    rate: Decimal
    release_at: datetime
    status: str = CommissionRecord.Status.FROZEN
