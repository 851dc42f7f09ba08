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
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.merchant_number or self.app_id}"
