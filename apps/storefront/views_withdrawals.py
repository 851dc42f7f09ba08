"""The distributor's withdrawal page (提现): balance, the store's rules, a request form that shows
fee, tax and net before the distributor confirms, and the history with statuses and reasons."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.errors import DomainError
from apps.credentials.models import masked
from apps.credentials.selectors import payee_account_for
from apps.distributors.models import Distributor
from apps.ledger.selectors import wallet_or_empty
from apps.merchants.models import Merchant
from apps.withdrawals.quotes import WithdrawalQuote
from apps.withdrawals.selectors import (
    withdrawable_amount,
    withdrawal_debt,
    withdrawal_settings_for,
    withdrawals_for_distributor,
)
from apps.withdrawals.services import withdrawal_preview, withdrawal_request

from .forms import WithdrawalRequestForm
from .views import SignedInRequest, distributor_required, render_store, store_view

WITHDRAWALS_PER_PAGE = 20


@require_http_methods(["GET", "POST"])
@store_view
@distributor_required
def distributor_withdrawals(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    """GET shows the page; POST ``preview`` shows the fee, tax and net of the amount asked for;
    POST ``confirm`` requests the withdrawal (and comes back here, with the result on top)."""
    status = 200
    quote: WithdrawalQuote | None = None
    rules = withdrawal_settings_for(merchant=merchant)
    saved = payee_account_for(distributor_id=distributor.pk, provider=rules.payout_provider)
    if request.method == "POST":
        form = WithdrawalRequestForm(request.POST, account_optional=saved is not None)
        if form.is_valid():
            amount, account = form.cleaned_data["amount"], form.cleaned_data["account"]
            try:
                if "confirm" in request.POST:
                    withdrawal_request(
                        merchant=merchant,
                        distributor=distributor,
                        amount=amount,
                        account=account,
                        request_token=form.cleaned_data["request_token"],
                    )
                else:
                    quote = withdrawal_preview(
                        merchant=merchant, distributor=distributor, amount=amount
                    )
            except DomainError as error:
                form.add_error("amount", error.message)
                status = error.status
            else:
                if quote is None:
                    messages.success(
                        request, _("Withdrawal requested. You can follow it in the history below.")
                    )
                    return redirect("storefront:distributor-withdrawals", slug=merchant.slug)
        else:
            status = 400
    else:
        form = WithdrawalRequestForm(account_optional=saved is not None)
    wallet = wallet_or_empty(merchant_id=distributor.merchant_id, distributor_id=distributor.pk)
    paginator = Paginator(
        withdrawals_for_distributor(distributor=distributor),
        WITHDRAWALS_PER_PAGE,
    )
    page = paginator.get_page(request.GET.get("page"))
    return render_store(
        request,
        merchant,
        "storefront/distributor/withdrawals.html",
        {
            "distributor": distributor,
            "wallet": wallet,
            "withdrawable": withdrawable_amount(wallet),
            "debt": withdrawal_debt(wallet),
            "rules": rules,
            "form": form,
            "quote": quote,
            # one token per confirm form: a double click makes one withdrawal
            "request_token": uuid.uuid4().hex,
            "saved_account": masked(saved.account) if saved else "",
            "page": page,
        },
        status,
    )
