"""The supplier back office's money page (/admin/finance/supplier/): its statement with running
balances, and a withdrawal request of what one store owes it. Supplier staff only; anyone else
is refused (merchant staff have their own reports)."""

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import DomainError
from apps.suppliers.models import Supplier
from apps.suppliers.selectors import supplier_for_staff
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import supplier_withdrawal_request

from .supplier_statement import supplier_balances, supplier_statement


class SupplierWithdrawalForm(forms.Form):
    store = forms.TypedChoiceField(label=gettext_lazy("Store"), coerce=int)
    amount = forms.CharField(label=gettext_lazy("Amount (¥)"), max_length=20)
    account = forms.CharField(label=gettext_lazy("Account to pay into"), max_length=64)
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, stores: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = stores  # type: ignore[attr-defined]


def _supplier(request: HttpRequest) -> Supplier:
    supplier = supplier_for_staff(request.user)  # type: ignore[arg-type]
    if supplier is None:
        raise PermissionDenied
    return supplier


def supplier_money(request: HttpRequest) -> HttpResponseBase:
    supplier = _supplier(request)
    wallets = supplier_balances(supplier=supplier)
    stores = [(wallet.merchant_id, wallet.merchant.name) for wallet in wallets]
    status = 200
    if request.method == "POST":
        form = SupplierWithdrawalForm(request.POST, stores=stores)
        if form.is_valid():
            merchant = next(
                w.merchant for w in wallets if w.merchant_id == form.cleaned_data["store"]
            )
            try:
                withdrawal = supplier_withdrawal_request(
                    merchant=merchant,
                    supplier=supplier,
                    amount=form.cleaned_data["amount"],
                    account=form.cleaned_data["account"],
                    actor=request.user,  # type: ignore[arg-type]
                    request_token=form.cleaned_data["request_token"],
                )
            except DomainError as error:
                form.add_error("amount", error.message)
            else:
                messages.success(
                    request,
                    _("Withdrawal of ¥%(amount)s from %(store)s requested.")
                    % {"amount": withdrawal.amount, "store": merchant.name},
                )
                return redirect("finance:supplier-money")
        status = 400
    else:
        form = SupplierWithdrawalForm(initial={"request_token": uuid.uuid4().hex}, stores=stores)
    context = {
        **admin.site.each_context(request),
        "title": _("Money and statement"),
        "supplier": supplier,
        "wallets": wallets,
        "rows": supplier_statement(supplier=supplier),
        "withdrawals": Withdrawal.objects.filter(supplier=supplier)
        .select_related("merchant")
        .order_by("-id")[:50],
        "form": form,
    }
    return TemplateResponse(request, "finance/admin/supplier_money.html", context, status=status)
