"""A cancelled or expired order's checkout is closed; money that still arrives is kept for refund."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import Conflict, DomainError, NotFound
from apps.orders.models import Order
from apps.orders.services import order_cancel
from apps.payments import services as payment_services
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start

from ..factories import PASSWORD, SkuFactory
from .flows import place, signed_notification


@pytest.fixture
def unpaid(merchant, customer):
    sku = SkuFactory(product__merchant=merchant)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    return order, payment


def test_cancelling_closes_the_pending_payment(unpaid):
    order, payment = unpaid

    assert order_cancel(order=order) is True

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CLOSED


def test_money_for_a_closed_payment_is_kept_for_refund_and_the_order_stays_cancelled(unpaid):
    order, payment = unpaid
    order_cancel(order=order)
    body, headers = signed_notification(payment)

    first = payment_handle_notification(provider="sandbox", body=body, headers=headers)
    again = payment_handle_notification(provider="sandbox", body=body, headers=headers)

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (first, again) == ("refund_required", "duplicate")
    assert payment.status == Payment.Status.REFUND_REQUIRED
    assert payment.provider_trade_no == "SANDBOX-0001"
    assert order.status == Order.Status.CANCELLED


def test_an_order_paid_first_cannot_be_cancelled_after(unpaid):
    order, payment = unpaid
    body, headers = signed_notification(payment)
    payment_handle_notification(provider="sandbox", body=body, headers=headers)
    order.refresh_from_db()

    with pytest.raises(Conflict):
        order_cancel(order=order)

    payment.refresh_from_db()
    assert (order.status, payment.status) == (Order.Status.PAID, Payment.Status.SUCCEEDED)


@pytest.mark.parametrize("close", ["cancel", "expire"])
def test_the_sandbox_pay_page_refuses_a_closed_order(client, customer, unpaid, close):
    order, payment = unpaid
    if close == "cancel":
        order_cancel(order=order)
    else:
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.login(username=customer.username, password=PASSWORD)
    pay_url = reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})
    order_url = reverse(
        "storefront:order", kwargs={"slug": order.merchant.slug, "order_id": order.pk}
    )

    page = client.get(pay_url)
    with pytest.MonkeyPatch.context() as patch:
        enqueued = []
        patch.setattr(
            "apps.payments.views.sandbox_deliver_notification.delay",
            lambda *args: enqueued.append(args),
        )
        confirm = client.post(pay_url)

    assert (page.status_code, page.url) == (302, order_url)
    assert (confirm.status_code, confirm.url) == (302, order_url)
    assert enqueued == []


def test_without_the_sandbox_enabled_nobody_can_pay_through_it(settings, merchant, customer):
    settings.FENXIAO_PAYMENT_PROVIDERS = []
    order = place(
        merchant=merchant, customer=customer, lines=[(SkuFactory(product__merchant=merchant), 1)]
    )

    with pytest.raises(DomainError) as refused:
        payment_start(merchant=merchant, customer=customer, order_id=order.pk)

    assert refused.value.code == "provider_unavailable"
    assert not Payment.objects.filter(order=order).exists()


def test_without_the_sandbox_enabled_its_notifications_are_unknown(settings, unpaid):
    order, payment = unpaid
    settings.FENXIAO_PAYMENT_PROVIDERS = []
    body, headers = signed_notification(payment)

    with pytest.raises(NotFound):
        payment_handle_notification(provider="sandbox", body=body, headers=headers)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_cancel_between_reading_the_order_and_starting_payment_leaves_no_open_checkout(
    merchant, customer, monkeypatch
):
    # Given an unpaid order that gets cancelled right after payment_start has read it
    order = place(
        merchant=merchant, customer=customer, lines=[(SkuFactory(product__merchant=merchant), 1)]
    )
    read_order = payment_services.order_get_for_customer

    def read_then_cancel(**kwargs):
        stale = read_order(**kwargs)
        order_cancel(order=Order.objects.get(pk=stale.pk))
        return stale

    monkeypatch.setattr(payment_services, "order_get_for_customer", read_then_cancel)

    # When the payment is started from the stale read
    with pytest.raises(Conflict) as refused:
        payment_start(merchant=merchant, customer=customer, order_id=order.pk)

    # Then it is refused and no checkout is open
    assert refused.value.code == "not_payable"
    assert not Payment.objects.filter(order=order).exists()


def test_with_the_sandbox_disabled_its_pay_page_is_gone(settings, client, customer, unpaid):
    _order, payment = unpaid
    settings.FENXIAO_PAYMENT_PROVIDERS = []
    client.login(username=customer.username, password=PASSWORD)

    page = client.get(
        reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})
    )

    assert page.status_code == 404


@pytest.mark.parametrize("trade_no", ["%00", "FX%2F..", "x" * 65])
def test_a_malformed_trade_number_is_a_404(client, customer, trade_no):
    client.force_login(customer)

    assert client.get(f"/pay/sandbox/{trade_no}/").status_code == 404
