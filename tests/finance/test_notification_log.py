"""A signed notification whose amount disagrees is refused (400) and kept for reconciliation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.orders.models import Order
from apps.payments.models import Payment, PaymentNotificationLog, SandboxTransaction
from apps.payments.services import payment_start
from tests.services.flows import place, signed_notification

D = Decimal


@pytest.fixture
def payment(merchant, customer, sku):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    return payment_start(merchant=merchant, customer=customer, order_id=order.pk)


def notify(client, payment, amount, trade_no="SBX-1"):
    body, headers = signed_notification(payment, amount=amount, provider_trade_no=trade_no)
    return client.post(
        reverse("payments:notify", kwargs={"provider": "sandbox"}),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_an_amount_mismatch_is_refused_and_logged_once_per_notice(client, payment):
    first = notify(client, payment, D("99.99"))
    again = notify(client, payment, D("99.99"))
    other = notify(client, payment, D("1.00"))

    assert [first.status_code, again.status_code, other.status_code] == [400, 400, 400]
    assert first.json()["code"] == "amount_mismatch"
    assert list(
        PaymentNotificationLog.objects.order_by("id").values_list(
            "merchant_id",
            "payment_id",
            "provider_trade_no",
            "outcome",
            "notified_amount",
            "expected_amount",
            "times_received",
        )
    ) == [
        (payment.merchant_id, payment.pk, "SBX-1", "amount_mismatch", D("99.99"), D("100.00"), 2),
        (payment.merchant_id, payment.pk, "SBX-1", "amount_mismatch", D("1.00"), D("100.00"), 1),
    ]
    # and nothing else changed
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PENDING_PAYMENT


def test_a_matching_notification_logs_nothing(client, payment):
    assert notify(client, payment, D("100.00")).status_code == 200
    assert PaymentNotificationLog.objects.count() == 0


def test_an_absurd_amount_is_refused_without_a_row(client, payment):
    assert notify(client, payment, D("123456789012.00")).status_code == 400
    assert PaymentNotificationLog.objects.count() == 0


def test_the_sandbox_pay_page_records_the_payment_in_its_books(client, customer, payment):
    client.force_login(customer)
    url = reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})

    client.post(url)
    client.post(url)

    assert list(
        SandboxTransaction.objects.values_list("kind", "reference", "amount", "merchant_id")
    ) == [("payment", payment.out_trade_no, D("100.00"), payment.merchant_id)]
