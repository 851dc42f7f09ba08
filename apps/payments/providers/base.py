from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.payments.models import Payment


class InvalidNotification(Exception):
    """A notification that must not be trusted: bad signature, malformed body, unknown provider."""


@dataclass(frozen=True)
class PaymentNotification:
    """What a provider's asynchronous notification says, once its signature is verified."""

    out_trade_no: str
    provider_trade_no: str
    amount: Decimal
    succeeded: bool
    paid_at: datetime


@dataclass(frozen=True)
class PayoutResult:
    """A provider's final answer about one payout (提现打款)."""

    succeeded: bool
    reference: str
    message: str = ""


class PayoutUnavailable(Exception):
    """The provider could not be asked or gave no final answer: the payout is neither known paid
    nor known failed. Ask again later with the same idempotency key."""


class PaymentProvider(Protocol):
    """What Fenxiao needs from a payment provider (WeChat Pay, Alipay, the built-in sandbox)."""

    name: str

    def checkout_url(self, payment: "Payment") -> str:
        """Where to send the consumer to pay."""
        ...

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotification:
        """Verify and decode an asynchronous notification; raise InvalidNotification if untrusted."""
        ...

    def acknowledgement(self) -> tuple[str, str]:
        """(content type, body) the provider expects back so that it stops retrying."""
        ...

    def payout(
        self, *, withdrawal_reference: str, amount: Decimal, idempotency_key: str, account: str
    ) -> PayoutResult:
        """Pay ``amount`` to ``account``. Idempotent by ``idempotency_key``: asked again with the same
        key, the provider answers with the first payout's result and never pays twice. Raises
        PayoutUnavailable when the outcome is unknown."""
        ...

    def payout_query(self, *, idempotency_key: str) -> PayoutResult | None:
        """The result of the payout made with this key, or None when the provider never made it."""
        ...
