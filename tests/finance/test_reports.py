"""Finance reports over the ledger: statement, payable, reconciliation, exports, isolation."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.commissions.payment_splits import payment_split_order
from apps.ledger.models import Wallet
from apps.payments.models import Payment
from apps.payments.providers.sandbox import sandbox_record
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory

from .conftest import later, make_completed

D = Decimal


@pytest.fixture
def staff_client(client, merchant):
    client.force_login(MerchantStaffFactory(merchant=merchant).user)
    return client


def test_statement_totals_and_exports(staff_client, final, other_merchant, lines):
    other_sku_merchant = other_merchant  # another merchant's rows must be absent
    assert other_sku_merchant.pk != final.merchant_id
    url = reverse("finance:statement")

    page = staff_client.get(url)
    assert page.status_code == 200
    totals = page.context["report"].totals
    assert totals["payments_in"] == D("63.36")
    assert totals["platform_fees"] == D("0.63")
    assert totals["commission_earned"] == D("10.75")
    assert totals["merchant_net"] == D("63.36") - D("0.63") - D("10.75")

    body = b"".join(staff_client.get(url, {"export": "csv"}).streaming_content).decode()
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[-1][4:] == ["63.36", "0.00", "0.63", "10.75", "0.00", "51.98"]

    book = openpyxl.load_workbook(io.BytesIO(staff_client.get(url, {"export": "xlsx"}).content))
    sheet = book.active
    last = [cell.value for cell in list(sheet.iter_rows())[-1]]
    assert [D(str(value)).quantize(D("0.01")) for value in last[4:]] == [
        D("63.36"), D("0"), D("0.63"), D("10.75"), D("0"), D("51.98")
    ]  # fmt: skip


def test_payable_lists_frozen_commission(staff_client, settled, chain):
    response = staff_client.get(reverse("finance:payable"))
    assert response.status_code == 200
    assert response.context["report"].totals["payable"] == D("10.75")


def test_reconciliation_finds_each_kind_of_discrepancy(staff_client, final, merchant):
    payment = Payment.objects.get(order=final)
    payment_split_order(order_id=final.pk, now=later())
    sandbox_record(
        merchant_id=merchant.pk, kind="payment", reference=payment.out_trade_no, amount=D("63.36")
    )
    sandbox_record(merchant_id=merchant.pk, kind="refund", reference="RF-GHOST", amount=D("5.00"))
    other = make_completed(
        merchant=merchant,
        customer=UserFactory(),
        distributor=final.distributor,
        lines=[(line.sku, 1) for line in final.lines.all()[:1]],
    )
    other_payment = Payment.objects.get(order=other)
    sandbox_record(
        merchant_id=merchant.pk,
        kind="payment",
        reference=other_payment.out_trade_no,
        amount=D("1.00"),
    )

    rows = staff_client.get(reverse("finance:reconciliation")).context["report"].rows
    outcomes = sorted((row["outcome"], row["reference"]) for row in rows)
    assert ("Amount mismatch", other_payment.out_trade_no) in outcomes
    assert ("Missing in the ledger", "RF-GHOST") in outcomes
    assert ("Matched", payment.out_trade_no) in outcomes
    assert sum(1 for outcome, _ in outcomes if outcome == "Matched") == 6  # payment + 5 splits


def test_reports_of_another_merchant_are_absent(client, final):
    other = MerchantFactory()
    client.force_login(MerchantStaffFactory(merchant=other).user)
    response = client.get(reverse("finance:statement"))
    assert response.context["report"].totals["payments_in"] == D("0.00")
    assert list(response.context["rows"]) == []


def test_distributor_statement_running_balance_equals_the_wallet(client, final, chain, merchant):
    payment_split_order(order_id=final.pk, now=later())
    client.force_login(chain[2].user)
    start = str(timezone.localdate(final.created_at) - timedelta(days=1))
    end = str(timezone.localdate(later()))
    response = client.get(
        reverse("storefront:distributor-statement", kwargs={"slug": merchant.slug}),
        {"start": start, "end": end},
    )
    assert response.status_code == 200
    wallet = Wallet.objects.get(distributor=chain[2])
    closing = response.context["closing"]
    assert (closing["frozen"], closing["available"], closing["withdrawn"]) == (
        wallet.frozen,
        wallet.available,
        wallet.withdrawn,
    )
    assert [row["movement"] for row in response.context["rows"]].count("Paid by split") == 2
