from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.applications import ApplicantAccountForm
from apps.merchants.models import slug_validator


class SupplierApplicationForm(ApplicantAccountForm):
    """供应商入驻: the applicant's new account, the company and its business licence."""

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

    error_fields = {**ApplicantAccountForm.error_fields, "licence": "licence"}
