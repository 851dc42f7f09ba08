from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from apps.core.personal import phone_index

from .models import USER_PHONE, User


class SignupForm(BaseUserCreationForm):
    """Username, password twice and an optional phone number."""

    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)

    class Meta:
        model = User
        fields = ("username", "phone")

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        self.instance.phone_index = phone_index(phone, purpose=USER_PHONE)
        return phone

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken."), code="username_taken")
        return username
