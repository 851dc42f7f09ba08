"""Merchants' WeChat Pay / Alipay accounts in the admin: entered by the operator or the merchant's
owner (other staff see them, never the secrets), secrets never shown back (a fingerprint stands for
them; leaving a secret field empty keeps it), keys checked when saved."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.merchants.models import MerchantStaff
from apps.tenancy.admin import MerchantScopedAdmin, request_merchant

from .keys import InvalidKey, fingerprint, load_private_key, load_public_key
from .models import ProviderAccount

SECRET_FIELDS = ("private_key", "api_key")


class ProviderAccountForm(forms.ModelForm):
    private_key = forms.CharField(
        label=_("private key"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_(
            "PEM, or Alipay's bare base64. Never shown again; leave empty to keep the saved one."
        ),
    )
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("WeChat Pay's APIv3 key (32 characters). Leave empty to keep the saved one."),
    )

    class Meta:
        model = ProviderAccount
        fields = [
            "provider",
            "enabled",
            "app_id",
            "merchant_number",
            "key_serial",
            "private_key",
            "api_key",
            "provider_public_key",
            "provider_key_id",
            "api_base",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A secret is never sent back to the browser, not even into a hidden field.
        for name in SECRET_FIELDS:
            self.initial[name] = ""

    def _secret(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        if value:
            return value
        return getattr(self.instance, name, "") if self.instance.pk else ""

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider")
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                # Keep the stored secret: the field stays out of what the form writes.
                cleaned[name] = getattr(self.instance, name)
                if name in self.changed_data:
                    self.changed_data.remove(name)
        private_key = self._secret("private_key")
        if not private_key:
            self.add_error("private_key", _("Enter the private key."))
        else:
            try:
                load_private_key(private_key)
            except InvalidKey as error:
                self.add_error("private_key", _("This private key does not parse: %s") % error)
        public_key = cleaned.get("provider_public_key", "")
        if public_key:
            try:
                load_public_key(public_key)
            except InvalidKey as error:
                self.add_error(
                    "provider_public_key", _("This public key does not parse: %s") % error
                )
        if provider == ProviderAccount.Provider.WECHATPAY:
            api_key = self._secret("api_key")
            if len(api_key) != 32:
                self.add_error("api_key", _("WeChat Pay's APIv3 key has 32 characters."))
            for name, label in (
                ("merchant_number", _("merchant number (mchid)")),
                ("key_serial", _("certificate serial number")),
                ("provider_key_id", _("platform public key id / certificate serial")),
            ):
                if not cleaned.get(name):
                    self.add_error(name, _("WeChat Pay needs the %s.") % label)
        return cleaned


def _is_owner(request: HttpRequest) -> bool:
    """Whether the signed-in user may enter the store's provider accounts: the operator or the
    merchant's owner. Asked for every row of a changelist, so it is answered once per request."""
    if request.user.is_superuser:
        return True
    cached = getattr(request, "_fenxiao_is_merchant_owner", None)
    if cached is None:
        merchant = request_merchant(request)
        if merchant is None:
            cached = False
        else:
            # A back-office merchant is only found for a signed-in user.
            assert isinstance(request.user, User)
            cached = MerchantStaff.objects.filter(
                merchant=merchant, user=request.user, role=MerchantStaff.Role.OWNER
            ).exists()
        request._fenxiao_is_merchant_owner = cached  # type: ignore[attr-defined]
    return cached


@admin.register(ProviderAccount)
class ProviderAccountAdmin(MerchantScopedAdmin):
    form = ProviderAccountForm
    list_display = (
        "provider",
        "enabled",
        "app_id",
        "merchant_number",
        "private_key_fingerprint",
        "updated_at",
    )
    list_filter = ("provider", "enabled")
    readonly_fields = ("private_key_fingerprint", "api_key_fingerprint", "updated_at")

    @admin.display(description=_("private key"))
    def private_key_fingerprint(self, obj: ProviderAccount) -> str:
        return fingerprint(obj.private_key) if obj.pk else ""

    @admin.display(description=_("API key"))
    def api_key_fingerprint(self, obj: ProviderAccount) -> str:
        return fingerprint(obj.api_key) if obj.pk else ""

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj):
            # Read-only staff see fingerprints, never the secret fields themselves.
            fields = [name for name in fields if name not in SECRET_FIELDS]
        return fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return super().has_add_permission(request) and _is_owner(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return super().has_change_permission(request, obj) and _is_owner(request)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return super().has_delete_permission(request, obj) and _is_owner(request)
