from decimal import Decimal

import pytest

from apps.core.errors import DomainError, NotFound
from apps.orders.models import Order, OrderStatusChange
from apps.orders.services import order_cancel
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start
from tests.factories import SkuFactory, UserFactory

from .flows import PAID_AT, place, signed_notification

S = Order.Status


@pytest.fixture
def order(merchant, customer):
    # goods 33.33 + 3 × 10.01 = 63.36; the platform takes 1.10 %: 0.69696 → 0.69 (rounded down)
    merchant.platform_fee_percent = Decimal("1.10")
    merchant.save(update_fields=["platform_fee_percent"])
    first = SkuFactory(product__merchant=merchant, price=Decimal("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=Decimal("10.01"), stock=10)
    return place(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])


@pytest.fixture
def payment(merchant, customer, order):
    return payment_start(merchant=merchant, customer=customer, order_id=order.pk)


def snapshot(order, payment):
    """Everything a notification could change."""
    order = Order.objects.get(pk=order.pk)
    payment = Payment.objects.get(pk=payment.pk)
    return (
        order.status,
        order.paid_at,
        payment.status,
        payment.provider_trade_no,
        payment.platform_fee,
        payment.merchant_net,
        payment.succeeded_at,
        OrderStatusChange.objects.filter(order=order).count(),
        Payment.objects.count(),
    )


def test_payment_start_is_pending_for_the_payable_amount_and_reused(
    merchant, customer, order, payment
):
    assert (payment.status, payment.amount, payment.provider) == (
        "pending",
        Decimal("63.36"),
        "sandbox",
    )
    assert payment.out_trade_no.startswith(f"FX{order.number}")
    again = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    assert again.pk == payment.pk
    assert Payment.objects.count() == 1


def test_valid_notification_marks_paid_and_records_the_split(order, payment):
    body, headers = signed_notification(payment, provider_trade_no="SANDBOX-42")

    outcome = payment_handle_notification(provider="sandbox", body=body, headers=headers)

    assert outcome == "paid"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == S.PAID
    assert order.paid_at is not None
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.provider_trade_no == "SANDBOX-42"
    assert payment.succeeded_at == PAID_AT
    assert payment.platform_fee == Decimal("0.69")
    assert payment.merchant_net == Decimal("62.67")
    assert payment.platform_fee + payment.merchant_net == payment.amount
    assert list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    ) == [("", S.PENDING_PAYMENT), (S.PENDING_PAYMENT, S.PAID)]


def test_duplicate_notification_changes_nothing(order, payment):
    body, headers = signed_notification(payment, provider_trade_no="SANDBOX-42")
    assert payment_handle_notification(provider="sandbox", body=body, headers=headers) == "paid"
    before = snapshot(order, payment)

    # the same notice again, and a later one carrying another provider trade number
    again = payment_handle_notification(provider="sandbox", body=body, headers=headers)
    body2, headers2 = signed_notification(payment, provider_trade_no="SANDBOX-43")
    other = payment_handle_notification(provider="sandbox", body=body2, headers=headers2)

    assert (again, other) == ("duplicate", "duplicate")
    assert snapshot(order, payment) == before
    assert Payment.objects.get(pk=payment.pk).provider_trade_no == "SANDBOX-42"


def test_tampered_notification_is_refused_and_nothing_written(order, payment):
    body, headers = signed_notification(payment)
    tampered = body.replace(b'"amount":"63.36"', b'"amount":"0.01"')
    assert tampered != body
    before = snapshot(order, payment)

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(provider="sandbox", body=tampered, headers=headers)

    assert caught.value.code == "invalid_notification"
    assert caught.value.status == 400
    assert snapshot(order, payment) == before


@pytest.mark.parametrize(
    "headers",
    [{}, {SIGNATURE_HEADER: ""}, {SIGNATURE_HEADER: "0" * 64}, {SIGNATURE_HEADER: "not-hex"}],
)
def test_missing_or_wrong_signature_is_refused(order, payment, headers):
    body, _good = signed_notification(payment)
    before = snapshot(order, payment)

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(provider="sandbox", body=body, headers=headers)

    assert caught.value.code == "invalid_notification"
    assert snapshot(order, payment) == before


def test_unknown_provider_is_refused(order, payment):
    body, headers = signed_notification(payment)

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(provider="wechat-fake", body=body, headers=headers)

    assert (caught.value.status, caught.value.code) == (404, "unknown_provider")
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_signed_notification_with_a_different_amount_is_refused(order, payment):
    body, headers = signed_notification(payment, amount=Decimal("63.35"))
    before = snapshot(order, payment)

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(provider="sandbox", body=body, headers=headers)

    assert caught.value.code == "amount_mismatch"
    assert snapshot(order, payment) == before


def test_signed_notification_with_fractions_of_a_cent_is_refused(order, payment):
    body, headers = signed_notification(payment, amount=Decimal("63.355"))
    before = snapshot(order, payment)

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(provider="sandbox", body=body, headers=headers)

    assert caught.value.code == "invalid_notification"
    assert snapshot(order, payment) == before


def test_malformed_but_signed_body_is_refused(order, payment):
    body = b'{"out_trade_no": "x"}'

    with pytest.raises(DomainError) as caught:
        payment_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )

    assert caught.value.code == "invalid_notification"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_unknown_trade_number_is_not_found(order, payment):
    body = sandbox_notification_body(
        out_trade_no="FX-NO-SUCH-TRADE",
        provider_trade_no="SANDBOX-1",
        amount=payment.amount,
        paid_at=PAID_AT,
    )
    before = snapshot(order, payment)

    with pytest.raises(NotFound) as caught:
        payment_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )

    assert caught.value.code == "unknown_payment"
    assert snapshot(order, payment) == before


def test_non_success_notice_is_ignored(order, payment):
    body = sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no="SANDBOX-1",
        amount=payment.amount,
        paid_at=PAID_AT,
    ).replace(b'"trade_status":"SUCCESS"', b'"trade_status":"CLOSED"')
    before = snapshot(order, payment)

    outcome = payment_handle_notification(
        provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
    )

    assert outcome == "ignored"
    assert snapshot(order, payment) == before


def test_money_for_a_cancelled_order_must_be_refunded_and_the_order_stays_cancelled(
    customer, order, payment
):
    # given the order was cancelled after the consumer opened the pay page
    assert order_cancel(order=order, actor=customer) is True
    body, headers = signed_notification(payment, provider_trade_no="SANDBOX-LATE")

    # when the provider's notification arrives
    outcome = payment_handle_notification(provider="sandbox", body=body, headers=headers)

    # then the money is flagged for refund and the order is not revived
    assert outcome == "refund_required"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.paid_at) == (S.CANCELLED, None)
    assert payment.status == Payment.Status.REFUND_REQUIRED
    assert payment.provider_trade_no == "SANDBOX-LATE"
    assert (payment.platform_fee, payment.merchant_net) == (None, None)
    assert OrderStatusChange.objects.filter(order=order, to_status=S.PAID).count() == 0
    # and the same notification again is a duplicate
    assert (
        payment_handle_notification(provider="sandbox", body=body, headers=headers) == "duplicate"
    )
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUND_REQUIRED


def test_payment_start_for_another_customers_order_is_not_found(merchant, order):
    with pytest.raises(NotFound):
        payment_start(merchant=merchant, customer=UserFactory(), order_id=order.pk)

    assert Payment.objects.count() == 0
