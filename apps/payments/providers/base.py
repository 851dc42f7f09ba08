from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.payments.models import Payment


class InvalidNotification(Exception):
    """A notification that must not be trusted: bad signature, malformed body, unknown provider."""


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

    def split(
        self, payment: "Payment", receivers: Sequence[SplitReceiver], idempotency_key: str
    ) -> SplitResult:
        """Send shares of a succeeded payment to receivers (分账). Idempotent per key: calling again
        with the same key returns the first result and moves no more money. Raises SplitFailed."""
        ...
