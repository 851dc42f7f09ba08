from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.applications import ApplicantAccountForm

from .models import slug_validator


class MerchantApplicationForm(ApplicantAccountForm):
    """商家入驻: the applicant's new account and the store they want to open."""

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
