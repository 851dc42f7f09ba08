"""A merchant's accounts with the real payment providers (WeChat Pay, Alipay): ids in the clear,
keys encrypted at rest (apps/core/crypto.py). Entered in the admin by the operator or the
merchant's owner; a secret is never shown back in full (only its fingerprint)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField
from apps.merchants.models import MerchantOwned


class ProviderAccount(MerchantOwned):
    """One merchant's credentials with one provider.

    WeChat Pay API v3: ``app_id`` (公众号/小程序 AppID), ``merchant_number`` (mchid), ``key_serial``
    (the serial number of the merchant's API certificate), ``private_key`` (the certificate's
    private key, PEM), ``api_key`` (the 32-character APIv3 key that decrypts notifications),
    ``provider_public_key`` and ``provider_key_id`` (WeChat Pay's platform public key or
    certificate, PEM, and its serial / public-key id).

    Alipay (open platform, RSA2): ``app_id``, ``merchant_number`` (the seller's PID, for royalty),
    ``private_key`` (the application's RSA private key), ``provider_public_key`` (Alipay's public
    key); ``key_serial``, ``api_key`` and ``provider_key_id`` are unused.
    """

    class Provider(models.TextChoices):
        WECHATPAY = "wechatpay", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")

    provider = models.CharField(_("provider"), max_length=16, choices=Provider)
    enabled = models.BooleanField(
        _("enabled"),
        default=False,
        help_text=_("Checkouts of this merchant offer the provider only when enabled."),
    )
    app_id = models.CharField(_("app id"), max_length=64)
    merchant_number = models.CharField(_("merchant number"), max_length=64, blank=True)
    key_serial = models.CharField(_("certificate serial number"), max_length=64, blank=True)
    private_key = EncryptedTextField(_("private key"))
    api_key = EncryptedTextField(_("API key"), blank=True, default="")
    provider_public_key = models.TextField(_("provider public key"))
    provider_key_id = models.CharField(_("provider key id"), max_length=64, blank=True)
    api_base = models.URLField(
        _("API address"),
        blank=True,
        help_text=_("Empty: the provider's production address."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment provider account")
        verbose_name_plural = _("payment provider accounts")
        ordering = ["merchant_id", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "provider"], name="provider_account_one_per_provider"
            ),
            # Notifications find their account by these: one account each.
            models.UniqueConstraint(
                fields=["provider", "provider_key_id"],
                condition=~models.Q(provider_key_id=""),
                name="provider_account_unique_key_id",
            ),
            models.UniqueConstraint(
                fields=["provider", "app_id"],
                condition=models.Q(provider="alipay"),
                name="provider_account_unique_alipay_app",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.merchant_number or self.app_id}"


class PayeeAccount(MerchantOwned):
    """Where a distributor's withdrawals are paid (提现账户), per payout method: the openid of the
    distributor's WeChat under the merchant's app, or their Alipay login. Encrypted at rest; the
    distributor enters it on their own page, and the withdrawal form uses it."""

    class Provider(models.TextChoices):
        WECHATPAY = "wechatpay", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        SANDBOX = "sandbox", _("Sandbox (no money moves)")

    distributor = models.ForeignKey(
        "distributors.Distributor", on_delete=models.CASCADE, related_name="payee_accounts"
    )
    provider = models.CharField(_("payout method"), max_length=16, choices=Provider)
    account = EncryptedTextField(_("account"))
    real_name = EncryptedTextField(_("real name"), blank=True, default="")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "distributor", "provider"], name="payee_account_one_per_method"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {masked(self.account)}"


def masked(account: str) -> str:
    """What pages show of an account: its first and last two characters."""
    if len(account) <= 4:
        return "*" * len(account)
    return f"{account[:2]}{'*' * min(len(account) - 4, 8)}{account[-2:]}"
