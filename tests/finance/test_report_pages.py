"""The finance report pages: a fixed number of queries, the reconciliation's outcomes, XLSX
exports that open, and the way a merchant finds them (admin index, payments, the split inline)."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.commissions.payment_splits import payment_split_order
from apps.commissions.services import commissions_release_due
from apps.payments.models import Payment, PaymentNotificationLog, PaymentSplit
from apps.payments.providers.sandbox import sandbox_record
from apps.payments.services import payment_start
from tests.factories import MerchantStaffFactory, UserFactory
from tests.services.flows import place, signed_notification

from .conftest import later, make_completed

D = Decimal


@pytest.fixture
def staff_client(client, merchant):
    client.force_login(MerchantStaffFactory(merchant=merchant).user)
    return client


def period_of(order) -> dict[str, str]:
    return {
        "start": str(timezone.localdate(order.created_at)),
        "end": str(timezone.localdate(later())),
    }


@pytest.mark.parametrize("orders", [1, 5])
@pytest.mark.parametrize(
    ("name", "queries"),
    [
        # user (the session is cached), whether the staff's store asks for two-factor sign-in,
        # merchant, whether the user is a supplier's staff, the admin's sidebar (whether each
        # one-per-merchant settings row exists: programme, members, commission plan, withdrawal
        # settings; whether the user is the owner); then totals + rows for the statement and
        # payable; for the reconciliation: the ledger of the period, the merchant's provider
        # accounts, the stored statements (lines, days), the sandbox's books of each day not
        # stored (the day before the period and its first, up to today), the ledger known to
        # the statements, the statement lines elsewhere and the refused notices
        ("finance:statement", 11),
        ("finance:payable", 11),
        ("finance:reconciliation", 17),
    ],
)
def test_a_report_page_takes_the_same_queries_for_one_or_many_rows(
    staff_client, merchant, chain, lines, django_assert_num_queries, orders, name, queries
):
    first = None
    for _ in range(orders):
        order = make_completed(
            merchant=merchant, customer=UserFactory(), distributor=chain[3], lines=lines[:1]
        )
        first = first or order
        payment = Payment.objects.get(order=order)
        sandbox_record(
            merchant_id=merchant.pk, kind="payment", reference=payment.out_trade_no,
            amount=payment.amount,
        )  # fmt: skip
    commissions_release_due(now=later())

    with django_assert_num_queries(queries):
        response = staff_client.get(reverse(name), period_of(first))

    assert response.status_code == 200
    assert (
        len(response.context["rows"])
        == {
            "finance:statement": 5 * orders,  # payment, earned, three releases
            "finance:payable": 3,
            "finance:reconciliation": orders,
        }[name]
    )


def test_reconciliation_reports_a_payment_missing_at_the_provider(staff_client, final):
    payment = Payment.objects.get(order=final)  # the sandbox's books never saw it

    rows = (
        staff_client.get(reverse("finance:reconciliation"), period_of(final)).context["report"].rows
    )

    assert [(row["outcome"], row["reference"], row["ledger_amount"]) for row in rows] == [
        ("Missing at the provider", payment.out_trade_no, D("63.36"))
    ]


def test_reconciliation_shows_a_refused_amount_mismatch_notification(
    staff_client, client, merchant, customer, sku
):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(payment, amount=D("1.00"), provider_trade_no="SBX-42")
    refused = client.post(
        reverse("payments:notify", kwargs={"provider": "sandbox"}),
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 400
    assert PaymentNotificationLog.objects.count() == 1

    report = staff_client.get(reverse("finance:reconciliation"), period_of(order)).context["report"]

    assert [
        (row["outcome"], row["reference"], row["provider_amount"], row["ledger_amount"],
         row["detail"])
        for row in report.rows
    ] == [("Refused notification", payment.out_trade_no, D("1.00"), payment.amount, "SBX-42 ×1")]  # fmt: skip
    assert "Refused notification: 1" in report.notes


def xlsx(staff_client, name, params):
    response = staff_client.get(reverse(name), {**params, "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def money(values):
    return [None if value is None else D(str(value)).quantize(D("0.01")) for value in values]


def test_the_statement_xlsx_has_its_header_and_totals(staff_client, final):
    table = xlsx(staff_client, "finance:statement", period_of(final))

    assert table[0] == [
        "At", "Movement", "Order", "Reference", "Payments in", "Refunds out", "Platform fee",
        "Commission earned", "Commission reversed", "Merchant net",
    ]  # fmt: skip
    assert len(table) == 1 + 8 + 1
    assert table[-1][0] == "Total"
    assert money(table[-1][4:]) == [D("63.36"), D("0"), D("0.63"), D("10.75"), D("0"), D("51.98")]


def test_the_payable_xlsx_has_its_header_and_totals(staff_client, settled, chain):
    table = xlsx(staff_client, "finance:payable", {})

    assert table[0] == [
        "Distributor", "Invite code", "Frozen", "Available", "Being withdrawn", "Payable"
    ]  # fmt: skip
    assert [row[1] for row in table[1:-1]] == [
        c.invite_code for c in (chain[3], chain[2], chain[1])
    ]
    assert table[-1][0] == "Total"
    assert money(table[-1][2:]) == [D("10.75"), D("0"), D("0"), D("10.75")]


def test_the_reconciliation_xlsx_has_its_header_and_rows(staff_client, final, merchant):
    payment = Payment.objects.get(order=final)
    sandbox_record(
        merchant_id=merchant.pk, kind="payment", reference=payment.out_trade_no, amount=D("60.00")
    )

    table = xlsx(staff_client, "finance:reconciliation", period_of(final))

    assert table[0] == [
        "Outcome", "Provider", "Kind", "Reference", "Provider amount", "Ledger amount", "At",
        "Detail",
    ]  # fmt: skip
    assert [row[:4] for row in table[1:]] == [
        ["Amount mismatch", "Sandbox (no money moves)", "Payment", payment.out_trade_no]
    ]
    assert money(table[1][4:6]) == [D("60.00"), D("63.36")]


# --- finding the reports, and the split on the payment -----------------------------------------


def test_the_admin_index_and_the_payments_list_link_to_the_finance_reports(staff_client):
    index = staff_client.get(reverse("admin:index")).content.decode()
    payments = staff_client.get(reverse("admin:payments_payment_changelist")).content.decode()

    for url in ("finance:index", "finance:statement", "finance:payable", "finance:reconciliation"):
        assert f'href="{reverse(url)}"' in index
    assert f'href="{reverse("finance:index")}"' in payments
    assert f'href="{reverse("finance:reconciliation")}"' in payments


def test_the_payment_page_shows_its_split_read_only(staff_client, final, chain):
    payment_split_order(order_id=final.pk, now=later())
    payment = Payment.objects.get(order=final)

    response = staff_client.get(reverse("admin:payments_payment_change", args=[payment.pk]))

    assert response.status_code == 200
    inline = next(
        formset for formset in response.context["inline_admin_formsets"]
        if formset.opts.model is PaymentSplit
    )  # fmt: skip
    assert [form.original.amount for form in inline] == [
        D("0.63"), D("6.33"), D("3.16"), D("1.26"), D("51.98")
    ]  # fmt: skip
    assert not inline.has_add_permission and not inline.has_change_permission
    assert not inline.has_delete_permission
    page = response.content.decode()
    assert "SPL-" in page and 'name="splits-0-amount"' not in page


def test_another_merchants_payment_and_its_split_are_absent(client, final):
    payment_split_order(order_id=final.pk, now=later())
    payment = Payment.objects.get(order=final)
    client.force_login(MerchantStaffFactory().user)

    response = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))

    assert response.status_code == 404
