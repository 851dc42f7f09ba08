from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.merchants.models import slug_validator


class SupplierApplicationForm(forms.Form):
    """供应商入驻: the applicant's new account, the company and its business licence."""

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
    company_name = forms.CharField(label=_("Company name"), max_length=100)
    slug = forms.CharField(
        label=_("Supplier code"),
        max_length=50,
        validators=[slug_validator],
        help_text=_("Lower-case letters, digits, hyphens."),
    )
    categories = forms.CharField(
        label=_("Categories you supply"), max_length=255, help_text=_("e.g. tea, dried fruit")
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=64)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32)
    contact_email = forms.EmailField(label=_("Contact email"), max_length=254)
    licence = forms.FileField(
        label=_("Business licence"),
        help_text=_("PDF, JPEG or PNG."),
        allow_empty_file=True,  # the service says an empty file is empty, in its own words
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


ERROR_FIELDS = {"slug_taken": "slug", "username_taken": "username", "licence": "licence"}
