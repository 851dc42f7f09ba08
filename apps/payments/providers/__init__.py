from .base import InvalidNotification, PaymentNotification, PaymentProvider
from .sandbox import SandboxProvider

PROVIDERS: dict[str, PaymentProvider] = {SandboxProvider.name: SandboxProvider()}


def provider_get(name: str) -> PaymentProvider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise InvalidNotification(f"unknown payment provider {name!r}") from None


__all__ = ["InvalidNotification", "PaymentNotification", "PaymentProvider", "provider_get"]
