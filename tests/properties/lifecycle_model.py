"""The lifecycle machine's own model: what each order, refund case, commission record, withdrawal
and wallet should be, computed by hand in whole cents (never with the services' helpers).

Arithmetic (DESIGN.md money rules), in integer cents:

- commission = ⌊base × rate / 100⌋ (rates have two places: ⌊base¢ × rate¢ / 10 000⌋);
- a record's reversal after ``refunded`` of a line paid ``paid`` in all is ⌈amount × refunded /
  paid⌉ (the whole record once the line is refunded in full), less what was reversed before;
- the platform fee given back is ⌊fee × refunded / paid⌋ on the cumulative refunded amount;
- ``n`` more units of a line are worth ⌊paid × (held + n) / qty⌋ − ⌊paid × held / qty⌋;
- withdrawal fee ⌊(amount − band)⁺ × fee%⌋, tax ⌊(amount − threshold)⁺ × tax%⌋, net the rest;
- a split sends at most ⌊kept × 30 %⌋ to others: the platform fee first (less what refunds gave
  back of it), then levels 1, 2, 3.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from apps.commissions.models import CommissionRecord
from apps.orders.models import Order
from apps.refunds.models import RefundCase

SEEN: Counter[str] = Counter()  # what the examples reached; the test asserts the key paths


def note(what: str) -> None:
    SEEN[what] += 1


CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
S = Order.Status
RS = RefundCase.Status
CS = CommissionRecord.Status


def cents(value: Decimal) -> int:
    assert value == value.quantize(CENTS), value
    return int(value * 100)


def money(value_cents: int) -> Decimal:
    return (Decimal(value_cents) / 100).quantize(CENTS)


def floor_share(total: Decimal, part: Decimal | int, whole: Decimal | int) -> Decimal:
    """⌊total × part / whole⌋ in cents; all of ``total`` once part ≥ whole, nothing at part ≤ 0."""
    part_c = cents(part) if isinstance(part, Decimal) else part
    whole_c = cents(whole) if isinstance(whole, Decimal) else whole
    if part_c <= 0 or whole_c <= 0:
        return ZERO
    if part_c >= whole_c:
        return total
    return money(cents(total) * part_c // whole_c)


def ceil_share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    if part <= ZERO or whole <= ZERO:
        return ZERO
    if part >= whole:
        return total
    return money(-(-cents(total) * cents(part) // cents(whole)))


def percent_floor(base: Decimal, rate: Decimal) -> Decimal:
    return money(cents(base) * cents(rate) // 10_000)


@dataclass(eq=False)
class LineM:
    pk: int
    sku: int
    quantity: int
    paid: Decimal


@dataclass(eq=False)
class CaseM:
    pk: int
    key: str
    kind: str
    amount: Decimal
    lines: dict[int, tuple[int, Decimal]]  # order line pk -> (units, amount)
    return_goods: bool
    status: str = RS.REQUESTED


@dataclass(eq=False)
class OrderM:
    index: int
    pk: int
    buyer: int
    amount: Decimal
    snapshot: tuple[int | None, ...]  # beneficiary distributor pks, levels 1-3
    lines: dict[int, LineM]
    status: str = S.PENDING_PAYMENT
    commission_status: str = Order.CommissionStatus.NONE
    payment_pk: int | None = None
    out_trade_no: str = ""
    fee: Decimal = ZERO
    cases: list[CaseM] = field(default_factory=list)
    split_planned: bool = False
    splits: dict[int, Decimal] = field(default_factory=dict)  # distributor pk -> split share

    def __repr__(self) -> str:
        return f"order#{self.index}({self.status})"

    def holding(self, line_pk: int) -> tuple[int, Decimal]:
        """(units, amount) of the line held by requested/approved/refunding/refunded cases."""
        units, amount = 0, ZERO
        for case in self.cases:
            if case.status in RefundCase.HOLDING_STATUSES and line_pk in case.lines:
                units += case.lines[line_pk][0]
                amount += case.lines[line_pk][1]
        return units, amount

    def refunded(self, line_pk: int) -> Decimal:
        return sum(
            (
                c.lines[line_pk][1]
                for c in self.cases
                if c.status == RS.REFUNDED and line_pk in c.lines
            ),
            ZERO,
        )

    def open_case_on(self, line_pk: int) -> bool:
        return any(c.status in RefundCase.OPEN_STATUSES and line_pk in c.lines for c in self.cases)

    def refunded_total(self) -> Decimal:
        return sum((c.amount for c in self.cases if c.status == RS.REFUNDED), ZERO)


@dataclass(eq=False)
class RecordM:
    order: OrderM
    line: int
    beneficiary: int
    level: int
    amount: Decimal
    base: Decimal
    rate: Decimal
    reversed: Decimal = ZERO
    status: str = CS.FROZEN


@dataclass(eq=False)
class WithdrawalM:
    pk: int
    distributor: int
    amount: Decimal
    fee: Decimal
    tax: Decimal
    net: Decimal
    fails: bool
    status: str = "requested"


@dataclass
class WalletM:
    frozen: Decimal = ZERO
    available: Decimal = ZERO
    withdrawing: Decimal = ZERO
    withdrawn: Decimal = ZERO

    def as_tuple(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (self.frozen, self.available, self.withdrawing, self.withdrawn)


class Books:
    """The money the model expects: wallets per distributor and the merchant-wide accounts."""

    def __init__(self) -> None:
        self.wallets: dict[int, WalletM] = defaultdict(WalletM)
        self.provider = ZERO
        self.platform_fee = ZERO
        self.tax_withheld = ZERO
        self.split_out: dict[int, Decimal] = defaultdict(lambda: ZERO)  # distributor -> split
        self.withdrawn_net: dict[int, Decimal] = defaultdict(lambda: ZERO)  # paid withdrawals
