"""The distributor's payout accounts (提现账户): where the store's payout method pays their
withdrawals. Shown back masked only."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.core.errors import DomainError
from apps.credentials.models import PayeeAccount, masked
from apps.credentials.services import MAX_ACCOUNT_LENGTH, payee_account_set
from apps.distributors.models import Distributor
from apps.merchants.models import Merchant
from apps.withdrawals.selectors import withdrawal_settings_for

from .views import SignedInRequest, distributor_required, render_store, store_view

HELP = {
    PayeeAccount.Provider.WECHATPAY: gettext_lazy(
        "Your openid with the store's WeChat app (the store's WeChat page fills it in)."
    ),
    PayeeAccount.Provider.ALIPAY: gettext_lazy("Your Alipay login: a phone number or e-mail."),
    PayeeAccount.Provider.SANDBOX: gettext_lazy("Any text: the sandbox moves no money."),
}


class PayeeAccountForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("Account"), max_length=MAX_ACCOUNT_LENGTH)
    real_name = forms.CharField(
        label=gettext_lazy("Real name"), max_length=MAX_ACCOUNT_LENGTH, required=False
    )


@require_http_methods(["GET", "POST"])
@store_view
@distributor_required
def distributor_payout_account(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    provider = withdrawal_settings_for(merchant=merchant).payout_provider
    status = 200
    form = PayeeAccountForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                payee_account_set(
                    distributor=distributor,
                    provider=provider,
                    account=form.cleaned_data["account"],
                    real_name=form.cleaned_data["real_name"],
                )
            except DomainError as error:
                form.add_error("account", error.message)
                status = error.status
            else:
                messages.success(request, _("Payout account saved."))
                return redirect("storefront:distributor-payout-account", slug=merchant.slug)
        else:
            status = 400
    saved = PayeeAccount.objects.filter(distributor=distributor, provider=provider).first()
    return render_store(
        request,
        merchant,
        "storefront/distributor/payout_account.html",
        {
            "distributor": distributor,
            "provider_label": PayeeAccount.Provider(provider).label,
            "help": HELP[PayeeAccount.Provider(provider)],
            "saved": masked(saved.account) if saved else "",
            "form": form,
        },
        status,
    )
