"""The sandbox pay page and the providers' notification endpoint."""

from django.urls import reverse
from django.utils import timezone

from apps.orders.models import Order
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_start
from tests.factories import UserFactory

NOTIFY_URL = "/pay/notify/sandbox/"


def start_payment(customer, sku, place_order) -> Payment:
    order = place_order(customer=customer, sku=sku)
    return payment_start(merchant=sku.merchant, customer=customer, order_id=order.pk)


def notify(client, body: bytes, signature: str | None):
    headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
    return client.post(NOTIFY_URL, data=body, content_type="application/json", headers=headers)


def signed_body(payment: Payment, amount=None) -> bytes:
    return sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no="SBXTEST1",
        amount=payment.amount if amount is None else amount,
        paid_at=timezone.now(),
    )


def test_notify_url_names(db):
    assert reverse("payments:notify", kwargs={"provider": "sandbox"}) == NOTIFY_URL
    assert reverse("payments:sandbox-pay", kwargs={"out_trade_no": "FX1"}) == "/pay/sandbox/FX1/"


def test_pay_page_is_only_for_the_payments_customer(client, customer, sku, place_order):
    payment = start_payment(customer, sku, place_order)
    url = reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})

    anonymous = client.get(url)
    client.force_login(UserFactory())
    stranger_get = client.get(url)
    stranger_post = client.post(url)
    client.force_login(customer)
    owner = client.get(url)

    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('accounts:login')}?next={url}"
    assert stranger_get.status_code == 404 and stranger_post.status_code == 404
    assert owner.status_code == 200
    assert 'data-test="confirm-payment"' in owner.content.decode()
    assert client.get("/pay/sandbox/FXNOPE/").status_code == 404


def test_signed_notification_pays_once_and_repeats_are_acknowledged(
    client, customer, sku, place_order
):
    payment = start_payment(customer, sku, place_order)
    body = signed_body(payment)

    first = notify(client, body, sandbox_sign(body))
    second = notify(client, body, sandbox_sign(body))

    assert first.status_code == 200 and first.json() == {"code": "SUCCESS"}
    assert second.status_code == 200 and second.json() == {"code": "SUCCESS"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.order.status == Order.Status.PAID
    assert payment.order.status_changes.filter(to_status="paid").count() == 1


def test_tampered_signature_is_400_and_changes_nothing(client, customer, sku, place_order):
    payment = start_payment(customer, sku, place_order)
    body = signed_body(payment)

    signature = sandbox_sign(body)
    tampered = notify(client, body, signature[:-1] + ("1" if signature[-1] == "0" else "0"))
    unsigned = notify(client, body, None)
    altered_body = notify(client, body.replace(b"SUCCESS", b"SUCCES5"), sandbox_sign(body))

    for response in (tampered, unsigned, altered_body):
        assert response.status_code == 400
        assert response.json() == {
            "detail": "signature does not match",
            "code": "invalid_notification",
        }
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.PENDING_PAYMENT


def test_wrong_amount_is_400_and_unknown_payment_is_404(client, customer, sku, place_order):
    payment = start_payment(customer, sku, place_order)
    wrong = signed_body(payment, amount="1.00")
    unknown = sandbox_notification_body(
        out_trade_no="FXNOSUCH",
        provider_trade_no="X",
        amount=payment.amount,
        paid_at=timezone.now(),
    )

    wrong_response = notify(client, wrong, sandbox_sign(wrong))
    unknown_response = notify(client, unknown, sandbox_sign(unknown))

    assert wrong_response.status_code == 400
    assert wrong_response.json()["code"] == "amount_mismatch"
    assert unknown_response.status_code == 404
    assert unknown_response.json() == {"detail": "No such payment.", "code": "unknown_payment"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_garbage_bodies_never_500(client, db):
    for body in (b"", b"not json", b"[]", b'{"amount": "x"}', b"\xff\xfe", b'{"amount": "NaN"}'):
        signed = notify(client, body, sandbox_sign(body))
        unsigned = notify(client, body, None)
        assert signed.status_code == 400, body
        assert signed.json()["code"] == "invalid_notification"
        assert unsigned.status_code == 400

    unknown_provider = client.post(
        "/pay/notify/nopay/", data=b"{}", content_type="application/json"
    )
    assert unknown_provider.status_code == 404
    assert unknown_provider.json()["code"] == "unknown_provider"
    assert client.get(NOTIFY_URL).status_code == 405
