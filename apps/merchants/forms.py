from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User

from .models import slug_validator


class MerchantApplicationForm(forms.Form):
    """商家入驻: the applicant's new account and the store they want to open."""

    username = forms.CharField(label=_("Username"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    store_name = forms.CharField(label=_("Store name"), max_length=100)
    slug = forms.CharField(
        label=_("Store address"),
        max_length=50,
        validators=[slug_validator],
        help_text=_("Your store will live at /s/<address>/. Lower-case letters, digits, hyphens."),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=64)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32)
    contact_email = forms.EmailField(label=_("Contact email"), max_length=254)
    description = forms.CharField(
        label=_("What you sell"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        User.username_validator(username)
        return username

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            try:
                password_validation.validate_password(
                    password1, User(username=cleaned.get("username", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


ERROR_FIELDS = {"slug_taken": "slug", "username_taken": "username"}


def application_error_field(code: str) -> str | None:
    return ERROR_FIELDS.get(code)
