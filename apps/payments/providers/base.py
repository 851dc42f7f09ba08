from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.payments.models import Payment


class ProviderError(Exception):
    """A real provider could not be asked (timeout, connection, 5xx) or refused a request in a
    way the caller can only report; the interface's narrower errors say more where they apply."""


class InvalidNotification(Exception):
    """A notification that must not be trusted: bad signature, malformed body, unknown provider."""


class IsRefundNotification(InvalidNotification):
    """A notification on the payment callback that is about a refund (Alipay notifies a refund
    on the trade's callback): hand it to the refund handling instead."""


class SplitFailed(Exception):
    """The provider refused or could not execute a split; retrying with the same key is safe."""


@dataclass(frozen=True)
class SplitReceiver:
    """One receiver of a split order: ``receiver`` is platform / distributor / merchant, ``account``
    the provider's account for it (WeChat: the receiver's openid or merchant id)."""

    receiver: str
    account: str
    amount: Decimal


@dataclass(frozen=True)
class SplitResult:
    provider_reference: str


@dataclass(frozen=True)
class PaymentNotification:
    """What a provider's asynchronous notification says, once its signature is verified."""

    out_trade_no: str
    provider_trade_no: str
    amount: Decimal
    succeeded: bool
    paid_at: datetime
    # Real providers sign per merchant account: the merchant whose account verified the notice.
    # Only that merchant's payment may be paid by it.
    merchant_id: int | None = None


@dataclass(frozen=True)
class RefundNotification:
    """What a provider's asynchronous refund notification says, once its signature is verified.

    ``out_refund_no`` is the idempotency key Fenxiao sent with the refund request.
    """

    out_refund_no: str
    provider_refund_no: str
    amount: Decimal
    succeeded: bool
    failure_reason: str = ""
    merchant_id: int | None = None


@dataclass(frozen=True)
class ProviderRefund:
    """The provider's synchronous answer to a refund request: accepted (the outcome follows in a
    notification) under the provider's refund number."""

    provider_refund_no: str


class RefundRefused(Exception):
    """The provider refused a refund request outright (nothing will be refunded)."""


@dataclass(frozen=True)
class PayoutResult:
    """A provider's final answer about one payout (提现打款)."""

    succeeded: bool
    reference: str
    message: str = ""


@dataclass(frozen=True)
class StatementLine:
    """One line of a provider's statement (WeChat Pay's bill, Alipay's bill, the sandbox's books):
    money that moved at the provider. ``kind`` is payment / refund / split / payout;
    ``reference`` is Fenxiao's key for it (out_trade_no, the refund's or payout's idempotency
    key), which reconciliation matches against the ledger."""

    kind: str
    reference: str
    amount: Decimal
    occurred_at: datetime
    provider_reference: str = ""
    out_trade_no: str = ""
    receiver: str = ""
    fee: Decimal = Decimal("0.00")


class PayoutUnavailable(Exception):
    """The provider could not be asked or gave no final answer: the payout is neither known paid
    nor known failed. Ask again later with the same idempotency key."""


class PaymentProvider(Protocol):
    """What Fenxiao needs from a payment provider (WeChat Pay, Alipay, the built-in sandbox)."""

    name: str
    # The kinds of StatementLine its statement lists (reconciliation expects no others there).
    statement_kinds: frozenset[str]
    # Its statement is read from books in Fenxiao's own database (the sandbox): cheap to read for
    # a day whose statement beat has not downloaded yet.
    statement_is_local: bool
    # Its statement names a split by the trade it splits (``out_trade_no``), not by the split's
    # key (Alipay's account bill has no column for a settlement's out_request_no): which split
    # row a line is, is found by the payment and the amount (payments.statements).
    statement_splits_by_trade: bool

    def checkout_url(self, payment: "Payment") -> str:
        """Where to send the consumer to pay."""
        ...

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotification:
        """Verify and decode an asynchronous notification; raise InvalidNotification if untrusted."""
        ...

    def acknowledgement(self) -> tuple[str, str]:
        """(content type, body) the provider expects back so that it stops retrying."""
        ...

    def close(self, payment: "Payment") -> None:
        """Close the payment's checkout at the provider, so that it can no longer be paid
        (an order paid meanwhile stays paid: its notification follows). Raises ProviderError
        when the provider could not be asked."""
        ...

    def split(
        self, payment: "Payment", receivers: Sequence[SplitReceiver], idempotency_key: str
    ) -> SplitResult:
        """Send shares of a succeeded payment to receivers (分账). Idempotent per key: calling again
        with the same key returns the first result and moves no more money. Raises SplitFailed."""
        ...

    def refund(self, payment: "Payment", amount: Decimal, idempotency_key: str) -> ProviderRefund:
        """Ask the provider to refund ``amount`` of ``payment``. The provider executes one refund
        per ``idempotency_key`` however often it is asked; the outcome arrives as a notification.
        Raises RefundRefused when refused, any other exception when the outcome is unknown (retry
        with the same key)."""
        ...

    def parse_refund_notification(
        self, *, body: bytes, headers: Mapping[str, str]
    ) -> RefundNotification:
        """Verify and decode a refund notification; raise InvalidNotification if untrusted."""
        ...

    def refund_query(self, payment: "Payment", idempotency_key: str) -> RefundNotification | None:
        """The outcome of the refund asked for under ``idempotency_key``, as the provider knows it
        now (the sweeper asks when its notification never came); None while it has no final
        outcome. Raises ProviderError when the provider could not be asked."""
        ...

    def payout(
        self,
        *,
        merchant_id: int,
        withdrawal_reference: str,
        amount: Decimal,
        idempotency_key: str,
        account: str,
    ) -> PayoutResult:
        """Pay ``amount`` to ``account`` out of merchant ``merchant_id``'s funds. Idempotent by
        ``idempotency_key``: asked again with the same key, the provider answers with the first
        payout's result and never pays twice. The provider's statement lists a payout under its
        idempotency key (what reconciliation matches the ledger's paid journal by). Raises
        PayoutUnavailable when the outcome is unknown."""
        ...

    def payout_query(
        self, *, idempotency_key: str, merchant_id: int | None = None
    ) -> PayoutResult | None:
        """The result of the payout made with this key, or None when the provider never made it.
        Real providers are asked with the merchant's credentials, so they need ``merchant_id``."""
        ...

    def statement(self, *, merchant_id: int, day: date) -> "list[StatementLine]":
        """What the provider booked for the merchant on ``day`` (Asia/Shanghai): its bill, the
        other side of reconciliation."""
        ...

    def statement_reference(self, *, kind: str, reference: str) -> str:
        """How the statement lists Fenxiao's key ``reference`` of a movement of ``kind`` (a
        provider may only take some characters of it)."""
        ...
