from django.conf import settings

from .alipay import AlipayProvider
from .base import (
    InvalidNotification,
    IsRefundNotification,
    PaymentNotification,
    PaymentProvider,
    PayoutResult,
    PayoutUnavailable,
    ProviderError,
    ProviderRefund,
    RefundNotification,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    SplitResult,
    StatementLine,
)
from .sandbox import SandboxProvider
from .wechatpay import WeChatPayProvider

PROVIDERS: dict[str, PaymentProvider] = {
    SandboxProvider.name: SandboxProvider(),
    WeChatPayProvider.name: WeChatPayProvider(),
    AlipayProvider.name: AlipayProvider(),
}


class ProviderUnavailable(Exception):
    """The provider does not exist or is not enabled here (``FENXIAO_PAYMENT_PROVIDERS``)."""


def provider_get(name: str) -> PaymentProvider:
    """An enabled provider. The sandbox marks orders paid without money moving, so production
    enables it only when told to."""
    if name not in settings.FENXIAO_PAYMENT_PROVIDERS or name not in PROVIDERS:
        raise ProviderUnavailable(name)
    return PROVIDERS[name]


def providers_for_merchant(*, merchant_id: int) -> list[str]:
    """The payment methods a merchant's checkout offers, the sandbox first when enabled: a real
    provider only where the merchant's account with it is entered and enabled."""
    from apps.credentials.selectors import provider_names_enabled

    offered = (
        [SandboxProvider.name] if SandboxProvider.name in settings.FENXIAO_PAYMENT_PROVIDERS else []
    )
    for name in provider_names_enabled(merchant_id=merchant_id):
        if name in settings.FENXIAO_PAYMENT_PROVIDERS and name in PROVIDERS:
            offered.append(name)
    return offered


__all__ = [
    "InvalidNotification",
    "IsRefundNotification",
    "PaymentNotification",
    "PaymentProvider",
    "ProviderError",
    "ProviderRefund",
    "PayoutResult",
    "PayoutUnavailable",
    "ProviderUnavailable",
    "SplitFailed",
    "SplitReceiver",
    "SplitResult",
    "StatementLine",
    "RefundNotification",
    "RefundRefused",
    "provider_get",
    "providers_for_merchant",
]
