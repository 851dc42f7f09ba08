from django.conf import settings

from .base import (
    InvalidNotification,
    PaymentNotification,
    PaymentProvider,
    PayoutResult,
    PayoutUnavailable,
    ProviderRefund,
    RefundNotification,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    SplitResult,
)
from .sandbox import SandboxProvider

PROVIDERS: dict[str, PaymentProvider] = {SandboxProvider.name: SandboxProvider()}


class ProviderUnavailable(Exception):
    """The provider does not exist or is not enabled here (``FENXIAO_PAYMENT_PROVIDERS``)."""


def provider_get(name: str) -> PaymentProvider:
    """An enabled provider. The sandbox marks orders paid without money moving, so production
    enables it only when told to."""
    if name not in settings.FENXIAO_PAYMENT_PROVIDERS or name not in PROVIDERS:
        raise ProviderUnavailable(name)
    return PROVIDERS[name]


__all__ = [
    "InvalidNotification",
    "PaymentNotification",
    "PaymentProvider",
    "ProviderRefund",
    "PayoutResult",
    "PayoutUnavailable",
    "ProviderUnavailable",
    "SplitFailed",
    "SplitReceiver",
    "SplitResult",
    "RefundNotification",
    "RefundRefused",
    "provider_get",
]
