"""Alipay (RSA2) against the loopback fake: pay page, notify, query, refund, royalty, transfer, bill."""

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from apps.orders.models import Order
from apps.payments.models import Payment
from apps.payments.providers import (
    PayoutUnavailable,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    alipay,
    provider_get,
)
from apps.payments.services import payment_start
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_approve, refund_request
from tests.services.flows import place

D = Decimal
NOTIFY = "/pay/notify/alipay/"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def provider():
    return provider_get("alipay")


@pytest.fixture
def payment(merchant, customer, sku, alipay_account):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    return payment_start(merchant=merchant, customer=customer, order_id=order.pk, provider="alipay")


def open_pay_page(provider, payment) -> str:
    """What the consumer's browser does with the checkout URL."""
    answer = httpx.get(provider.checkout_url(payment))
    assert answer.status_code == 200, answer.text
    return answer.text


def paid(client, provider, payment, fake) -> Payment:
    open_pay_page(provider, payment)
    assert (
        client.post(NOTIFY, fake.pay(payment.out_trade_no), content_type=FORM).content == b"success"
    )
    payment.refresh_from_db()
    return payment


def test_the_sign_content_is_sorted_unencoded_and_leaves_out_sign_and_empty_values():
    params = {
        "method": "alipay.trade.query",
        "app_id": "2014072300007148",
        "sign": "x",
        "biz_content": '{"out_trade_no":"a b&c"}',
        "notify_url": "",
        "charset": "utf-8",
    }

    assert alipay.sign_content(params) == (
        'app_id=2014072300007148&biz_content={"out_trade_no":"a b&c"}&charset=utf-8'
        "&method=alipay.trade.query"
    )
    assert "sign_type" not in alipay.sign_content(
        {"sign_type": "RSA2", "a": "1"}, leave_out=("sign", "sign_type")
    )


def test_a_notifications_signed_text_leaves_out_only_sign_and_sign_type():
    params = {"sign": "x", "sign_type": "RSA2", "notify_id": "n1", "body": "", "app_id": "1"}

    assert alipay.notification_content(params) == "app_id=1&body=&notify_id=n1"


def test_a_notification_with_an_empty_field_verifies_and_pays(
    client, provider, payment, alipay_fake
):
    """The platform's check (the SDK's getSignCheckContentV1) signs every field but sign and
    sign_type, an empty one too: leaving it out of the verified text would refuse a real notice."""
    open_pay_page(provider, payment)
    alipay_fake.pay(payment.out_trade_no)
    trade = alipay_fake.state.trades[payment.out_trade_no]
    body = alipay_fake.notification(
        {
            "trade_no": trade["trade_no"],
            "out_trade_no": payment.out_trade_no,
            "trade_status": "TRADE_SUCCESS",
            "total_amount": trade["total_amount"],
            "gmt_payment": trade["gmt_payment"],
            "passback_params": "",
        }
    )

    answer = client.post(NOTIFY, body, content_type=FORM)

    assert (answer.status_code, answer.content) == (200, b"success")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_response_text_is_the_exact_signed_object():
    body = '{"alipay_trade_query_response":{"code":"10000","msg":"a}\\"b{"},"sign":"S"}'

    assert (
        alipay.response_text(body, "alipay_trade_query_response")
        == '{"code":"10000","msg":"a}\\"b{"}'
    )


def test_the_pay_page_url_is_a_signed_wap_pay_request(provider, payment, alipay_fake):
    url = provider.checkout_url(payment)
    params = dict(parse_qsl(urlsplit(url).query))

    assert url.startswith(alipay_fake.gateway + "?")
    assert params["method"] == "alipay.trade.wap.pay"
    assert params["notify_url"].endswith(NOTIFY)
    assert '"total_amount":"' + f"{payment.amount:.2f}" in params["biz_content"]
    assert "WeChat" not in open_pay_page(provider, payment)


def test_a_verified_notification_pays_once_and_is_acknowledged_with_success(
    client, provider, payment, alipay_fake
):
    open_pay_page(provider, payment)
    body = alipay_fake.pay(payment.out_trade_no)

    first = client.post(NOTIFY, body, content_type=FORM)
    again = client.post(NOTIFY, body, content_type=FORM)

    assert (first.status_code, first.content) == (200, b"success")
    assert (again.status_code, again.content) == (200, b"success")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


@pytest.mark.parametrize(
    ("options", "status", "code"),
    [
        ({"bad_signature": True}, 400, "invalid_notification"),
        ({"total_amount": "0.01"}, 400, "amount_mismatch"),
    ],
)
def test_a_badly_signed_or_wrong_amount_notification_pays_nothing(
    client, provider, payment, alipay_fake, options, status, code
):
    open_pay_page(provider, payment)
    alipay_fake.pay(payment.out_trade_no)

    answer = client.post(
        NOTIFY, alipay_fake.payment_notification(payment.out_trade_no, **options), content_type=FORM
    )

    assert answer.status_code == status
    assert answer.json()["code"] == code
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_notification_for_an_unknown_trade_is_404(client, alipay_account, alipay_fake):
    answer = client.post(NOTIFY, alipay_fake.payment_notification("FX-UNKNOWN"), content_type=FORM)

    assert answer.status_code == 404


def test_a_late_notification_after_the_checkout_closed_asks_for_a_refund(
    client, provider, payment, alipay_fake
):
    open_pay_page(provider, payment)
    body = alipay_fake.pay(payment.out_trade_no)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CLOSED)

    assert client.post(NOTIFY, body, content_type=FORM).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUND_REQUIRED


def test_query_and_unreachable_gateway(provider, payment, alipay_fake):
    assert provider.query(payment) is None
    open_pay_page(provider, payment)
    alipay_fake.pay(payment.out_trade_no)
    assert provider.query(payment).succeeded is True

    alipay_fake.fail_next("timeout", "5xx")
    with pytest.raises(alipay.AlipayError):
        provider.query(payment)
    with pytest.raises(alipay.AlipayError):
        provider.query(payment)


def test_a_refund_is_confirmed_by_the_notification_on_the_trade_callback(
    client, provider, payment, alipay_fake, merchant, customer
):
    paid(client, provider, payment, alipay_fake)
    case = refund_request(
        merchant=merchant, customer=customer, order_id=payment.order_id, kind="order", reason="x"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    assert case.status == RefundCase.Status.REFUNDING

    body = alipay_fake.refund_notification(payment.out_trade_no, case.idempotency_key)
    first = client.post(NOTIFY, body, content_type=FORM)
    again = client.post(NOTIFY, body, content_type=FORM)

    assert (first.status_code, first.content) == (200, b"success")
    assert again.status_code == 200
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED


def test_refunds_are_one_per_request_number_and_too_much_is_refused(
    client, provider, payment, alipay_fake
):
    paid(client, provider, payment, alipay_fake)

    assert provider.refund(payment, D("1.00"), "AR-1") == provider.refund(
        payment, D("1.00"), "AR-1"
    )
    assert len(alipay_fake.state.refunds) == 1
    with pytest.raises(RefundRefused):
        provider.refund(payment, payment.amount, "AR-2")


def test_royalty_binds_and_settles_once_per_request(client, provider, payment, alipay_fake):
    paid(client, provider, payment, alipay_fake)
    receivers = [SplitReceiver(receiver="distributor", account="d1@example.com", amount=D("0.10"))]

    first = provider.split(payment, receivers, "RS-1")

    assert provider.split(payment, receivers, "RS-1") == first
    assert alipay_fake.state.relations == {"d1@example.com"}
    with pytest.raises(SplitFailed):
        provider.split(
            payment,
            [
                SplitReceiver(
                    receiver="distributor", account="d1@example.com", amount=payment.amount
                )
            ],
            "RS-2",
        )


def test_transfers_pay_once_per_key_refuse_bad_accounts_and_report_unknowns(
    merchant, provider, alipay_account, alipay_fake
):
    arguments = dict(
        merchant_id=merchant.pk,
        withdrawal_reference="W1",
        amount=D("5.00"),
        idempotency_key="wd-1",
        account="d1@example.com",
    )

    first = provider.payout(**arguments)

    assert first.succeeded is True
    assert provider.payout(**arguments) == first
    assert provider.payout_query(idempotency_key="wd-1", merchant_id=merchant.pk) == first
    assert provider.payout_query(idempotency_key="wd-none", merchant_id=merchant.pk) is None
    refused = provider.payout(**{**arguments, "idempotency_key": "wd-2", "account": "fail@x"})
    assert refused.succeeded is False
    alipay_fake.fail_next("5xx")
    with pytest.raises(PayoutUnavailable):
        provider.payout(**{**arguments, "idempotency_key": "wd-3"})


def test_the_statement_reads_the_days_bill_zip(client, provider, payment, alipay_fake):
    paid(client, provider, payment, alipay_fake)
    provider.refund(payment, D("1.00"), "AR-BILL")
    day = date.fromisoformat(alipay_fake.state.trades[payment.out_trade_no]["gmt_payment"][:10])

    lines = provider.statement(merchant_id=payment.merchant_id, day=day)

    assert [(line.kind, line.reference, line.amount) for line in lines] == [
        ("payment", payment.out_trade_no, payment.amount),
        ("refund", "AR-BILL", D("1.00")),
    ]
    assert provider.statement(merchant_id=payment.merchant_id, day=date(2001, 1, 1)) == []
