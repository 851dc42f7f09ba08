from .models import PayeeAccount, ProviderAccount


def provider_account_for_merchant(*, merchant_id: int, provider: str) -> ProviderAccount | None:
    """The merchant's enabled account with the provider, or None."""
    return ProviderAccount.objects.filter(
        merchant_id=merchant_id, provider=provider, enabled=True
    ).first()


def provider_account_by_key_id(*, provider: str, key_id: str) -> ProviderAccount | None:
    """The enabled account whose provider-side key (WeChat Pay's platform serial) is ``key_id``."""
    if not key_id:
        return None
    return ProviderAccount.objects.filter(
        provider=provider, provider_key_id=key_id, enabled=True
    ).first()


def provider_account_by_app_id(*, provider: str, app_id: str) -> ProviderAccount | None:
    """The enabled account of an app id (Alipay notifications name it)."""
    if not app_id:
        return None
    return ProviderAccount.objects.filter(provider=provider, app_id=app_id, enabled=True).first()


def provider_names_enabled(*, merchant_id: int) -> list[str]:
    return list(
        ProviderAccount.objects.filter(merchant_id=merchant_id, enabled=True)
        .order_by("provider")
        .values_list("provider", flat=True)
    )


def payee_account_for(*, distributor_id: int, provider: str) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(distributor_id=distributor_id, provider=provider).first()
