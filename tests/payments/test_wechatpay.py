"""WeChat Pay API v3 against the loopback fake: pay, notify, query, refund, split, payout, bills."""

import time
from datetime import date, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from apps.orders.models import Order
from apps.payments.models import Payment
from apps.payments.providers import (
    InvalidNotification,
    PayoutUnavailable,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    provider_get,
    wechatpay,
)
from apps.payments.services import payment_start
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_approve, refund_request
from tests.services.flows import place

D = Decimal
NOTIFY = "/pay/notify/wechatpay/"
REFUND_NOTIFY = "/pay/refund-notify/wechatpay/"


@pytest.fixture
def provider():
    return provider_get("wechatpay")


@pytest.fixture
def order(merchant, customer, sku):
    return place(merchant=merchant, customer=customer, lines=[(sku, 2)])


@pytest.fixture
def payment(merchant, customer, order, wechat_account):
    return payment_start(
        merchant=merchant,
        customer=customer,
        order_id=order.pk,
        provider="wechatpay",
        client_ip="203.0.113.7",
    )


def post(client, url, notification):
    body, headers = notification
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={key: value for key, value in headers.items()},
    )


# --- signatures ---------------------------------------------------------------------------------


def test_the_request_signature_is_rsa_sha256_over_the_documented_five_lines(wechat_keys):
    merchant_key, _platform = wechat_keys
    header = wechatpay.authorization(
        mchid="1900000109",
        serial_no="5157F09EFDC096DE15EBE81A47057A72",
        private_key=merchant_key,
        method="GET",
        path="/v3/certificates?x=1",
        body="",
    )

    fields = wechatpay.parse_authorization(header)
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="')
    assert fields["serial_no"] == "5157F09EFDC096DE15EBE81A47057A72"
    message = f"GET\n/v3/certificates?x=1\n{fields['timestamp']}\n{fields['nonce_str']}\n\n"
    merchant_key.public_key().verify(
        __import__("base64").b64decode(fields["signature"]),
        message.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert wechatpay.verify(merchant_key.public_key(), message, fields["signature"]) is True
    assert wechatpay.verify(merchant_key.public_key(), message + "x", fields["signature"]) is False


def test_the_answer_message_and_resource_decryption_match_the_documentation():
    assert wechatpay.answer_message("1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", "{}") == (
        "1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{}\n"
    )
    key = "0123456789abcdef0123456789abcdef"
    resource = wechatpay.encrypt_resource(key, {"out_trade_no": "FX1"}, "transaction")

    assert wechatpay.decrypt_resource(key, resource) == {"out_trade_no": "FX1"}
    with pytest.raises(InvalidNotification):
        wechatpay.decrypt_resource("f" * 32, resource)
    with pytest.raises(InvalidNotification):
        wechatpay.decrypt_resource(key, {**resource, "associated_data": "refund"})


# --- pay and notify -----------------------------------------------------------------------------


def test_checkout_creates_an_h5_order_once_per_trade_number(provider, payment, wechat_fake):
    url = provider.checkout_url(payment)

    assert url.startswith(f"{wechat_fake.url}/pay/h5/wx")
    assert provider.checkout_url(payment) == url
    order = wechat_fake.state.orders[payment.out_trade_no]
    assert order["amount"] == {"total": int(payment.amount * 100), "currency": "CNY"}
    assert order["notify_url"].endswith(NOTIFY)


def test_a_verified_notification_pays_the_order_and_a_duplicate_changes_nothing(
    client, provider, payment, wechat_fake
):
    provider.checkout_url(payment)
    notification = wechat_fake.pay(payment.out_trade_no)

    first = post(client, NOTIFY, notification)
    second = post(client, NOTIFY, notification)

    assert first.status_code == 200
    assert first.json() == {"code": "SUCCESS", "message": "成功"}
    assert second.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert (
        payment.provider_trade_no
        == wechat_fake.state.orders[payment.out_trade_no]["transaction_id"]
    )
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.PAID


def test_a_notification_with_a_bad_signature_is_refused_and_pays_nothing(
    client, provider, payment, wechat_fake
):
    provider.checkout_url(payment)
    wechat_fake.pay(payment.out_trade_no)

    answer = post(
        client, NOTIFY, wechat_fake.payment_notification(payment.out_trade_no, bad_signature=True)
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_notification"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_stale_notification_is_refused_as_a_replay(client, provider, payment, wechat_fake):
    provider.checkout_url(payment)
    wechat_fake.pay(payment.out_trade_no)

    stale = wechat_fake.payment_notification(
        payment.out_trade_no, timestamp=int(time.time()) - 3600
    )
    answer = post(client, NOTIFY, stale)

    assert answer.status_code == 400
    assert "replay" in answer.json()["detail"]


def test_a_notification_with_the_wrong_amount_is_refused(client, provider, payment, wechat_fake):
    provider.checkout_url(payment)
    wechat_fake.pay(payment.out_trade_no)

    answer = post(
        client, NOTIFY, wechat_fake.payment_notification(payment.out_trade_no, amount_fen=1)
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_notification_for_an_unknown_order_is_404(client, wechat_account, wechat_fake):
    answer = post(client, NOTIFY, wechat_fake.payment_notification("FX-NOT-OURS", amount_fen=100))

    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_payment"


def test_a_notification_only_pays_the_payment_of_the_merchant_whose_account_signed_it(
    client, provider, payment, wechat_fake, other_merchant
):
    """Another merchant's account cannot pay this merchant's order, whatever trade number its
    notification names."""
    from apps.credentials.models import ProviderAccount

    provider.checkout_url(payment)
    wechat_fake.pay(payment.out_trade_no)
    ProviderAccount.objects.filter(merchant=payment.merchant).update(merchant=other_merchant)

    answer = post(client, NOTIFY, wechat_fake.payment_notification(payment.out_trade_no))

    assert answer.status_code == 404
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_late_notification_for_a_closed_checkout_asks_for_a_refund(
    client, provider, payment, wechat_fake
):
    provider.checkout_url(payment)
    notification = wechat_fake.pay(payment.out_trade_no)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CLOSED)

    answer = post(client, NOTIFY, notification)

    assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUND_REQUIRED


def test_query_reports_the_trade_as_wechat_pay_knows_it(provider, payment, wechat_fake):
    assert provider.query(payment) is None
    provider.checkout_url(payment)
    assert provider.query(payment).succeeded is False

    wechat_fake.pay(payment.out_trade_no)
    known = provider.query(payment)

    assert known.succeeded is True
    assert known.amount == payment.amount
    assert known.merchant_id == payment.merchant_id


def test_a_timeout_or_a_5xx_is_a_provider_error_not_a_url(provider, payment, wechat_fake):
    wechat_fake.fail_next("timeout", "5xx")

    with pytest.raises(wechatpay.WeChatPayError) as timed_out:
        provider.checkout_url(payment)
    with pytest.raises(wechatpay.WeChatPayError) as failed:
        provider.checkout_url(payment)

    assert timed_out.value.status == 0
    assert failed.value.status == 500
    assert provider.checkout_url(payment).startswith(wechat_fake.url)


def test_an_answer_signed_by_another_key_is_not_trusted(provider, payment, wechat_fake):
    from tests.support.wechatpay_fake import generate_key

    real = wechat_fake.platform_key
    wechat_fake.platform_key = generate_key()
    try:
        with pytest.raises(InvalidNotification, match="signature"):
            provider.checkout_url(payment)
    finally:
        wechat_fake.platform_key = real


def test_the_merchant_without_an_account_cannot_start_a_wechat_checkout(
    provider, merchant, customer, order, wechat_fake
):
    payment = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider="wechatpay"
    )

    with pytest.raises(wechatpay.WeChatPayError, match="no enabled WeChat Pay account"):
        provider.checkout_url(payment)


# --- refunds ------------------------------------------------------------------------------------


def paid(client, provider, payment, wechat_fake) -> Payment:
    provider.checkout_url(payment)
    assert post(client, NOTIFY, wechat_fake.pay(payment.out_trade_no)).status_code == 200
    payment.refresh_from_db()
    return payment


def test_a_refund_goes_to_wechat_pay_and_its_notification_refunds_the_case(
    client, provider, payment, wechat_fake, merchant, customer
):
    paid(client, provider, payment, wechat_fake)
    case = refund_request(
        merchant=merchant, customer=customer, order_id=payment.order_id, kind="order", reason="x"
    )

    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)

    assert case.status == RefundCase.Status.REFUNDING
    sent = wechat_fake.state.refunds[case.idempotency_key]
    assert sent["refund"] == int(case.amount * 100)
    assert sent["notify_url"].endswith(REFUND_NOTIFY)
    notification = wechat_fake.refund_notification(case.idempotency_key)
    assert post(client, REFUND_NOTIFY, notification).status_code == 200
    assert post(client, REFUND_NOTIFY, notification).status_code == 200
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED
    assert case.provider_refund_no == sent["refund_id"]


def test_a_refund_asked_twice_with_one_key_is_one_refund(client, provider, payment, wechat_fake):
    paid(client, provider, payment, wechat_fake)

    first = provider.refund(payment, D("1.00"), "R-KEY-1")
    second = provider.refund(payment, D("1.00"), "R-KEY-1")

    assert first == second
    assert len(wechat_fake.state.refunds) == 1


def test_a_refund_over_the_paid_amount_is_refused_and_a_5xx_is_not(
    client, provider, payment, wechat_fake
):
    paid(client, provider, payment, wechat_fake)

    with pytest.raises(RefundRefused):
        provider.refund(payment, payment.amount + D("0.01"), "R-TOO-MUCH")
    wechat_fake.fail_next("5xx")
    with pytest.raises(wechatpay.WeChatPayError):
        provider.refund(payment, D("1.00"), "R-LATER")
    assert provider.refund(payment, D("1.00"), "R-LATER").provider_refund_no


def test_a_refund_notification_with_a_bad_signature_is_refused(
    client, provider, payment, wechat_fake
):
    paid(client, provider, payment, wechat_fake)
    provider.refund(payment, D("1.00"), "R-BAD-SIG")

    answer = post(
        client,
        REFUND_NOTIFY,
        wechat_fake.refund_notification("R-BAD-SIG", bad_signature=True),
    )

    assert answer.status_code == 400


# --- 分账 and payouts ---------------------------------------------------------------------------


def test_a_split_adds_receivers_and_is_one_order_per_key(client, provider, payment, wechat_fake):
    paid(client, provider, payment, wechat_fake)
    receivers = [
        SplitReceiver(receiver="platform", account="1900000001", amount=D("0.10")),
        SplitReceiver(receiver="distributor", account="oDistributor1", amount=D("0.20")),
    ]

    first = provider.split(payment, receivers, "S-1")
    again = provider.split(payment, receivers, "S-1")

    assert first == again
    assert wechat_fake.state.receivers == {
        ("MERCHANT_ID", "1900000001"),
        ("PERSONAL_OPENID", "oDistributor1"),
    }
    order = wechat_fake.state.profit_orders["S-1"]
    assert [r["amount"] for r in order["receivers"]] == [10, 20]
    assert provider.split_query(payment, "S-1")["state"] == "FINISHED"
    assert provider.unfreeze(payment, "S-1-UNFREEZE")


def test_a_split_over_the_providers_limit_fails(client, provider, payment, wechat_fake):
    paid(client, provider, payment, wechat_fake)

    with pytest.raises(SplitFailed):
        provider.split(
            payment,
            [SplitReceiver(receiver="distributor", account="o1", amount=payment.amount)],
            "S-TOO-MUCH",
        )


def test_a_payout_transfers_once_per_key(merchant, provider, wechat_account, wechat_fake):
    arguments = dict(
        merchant_id=merchant.pk,
        withdrawal_reference="W1",
        amount=D("12.34"),
        idempotency_key="withdrawal-1-abc",
        account="oDistributor1",
    )

    first = provider.payout(**arguments)
    again = provider.payout(**arguments)

    assert first.succeeded is True
    assert first == again
    assert list(wechat_fake.state.transfers.values())[0]["transfer_amount"] == 1234
    assert (
        provider.payout_query(idempotency_key="withdrawal-1-abc", merchant_id=merchant.pk) == first
    )
    assert provider.payout_query(idempotency_key="never", merchant_id=merchant.pk) is None


def test_a_refused_payout_is_final_and_an_unreachable_one_is_unknown(
    merchant, provider, wechat_account, wechat_fake
):
    refused = provider.payout(
        merchant_id=merchant.pk,
        withdrawal_reference="W2",
        amount=D("1.00"),
        idempotency_key="k2",
        account="fail-openid",
    )
    wechat_fake.fail_next("timeout")

    assert refused.succeeded is False
    assert "openid" in refused.message
    with pytest.raises(PayoutUnavailable):
        provider.payout(
            merchant_id=merchant.pk,
            withdrawal_reference="W3",
            amount=D("1.00"),
            idempotency_key="k3",
            account="oDistributor1",
        )


# --- bills --------------------------------------------------------------------------------------


def test_the_statement_reads_the_days_trade_bill(client, provider, payment, wechat_fake):
    paid(client, provider, payment, wechat_fake)
    provider.refund(payment, D("1.00"), "R-BILL")
    wechat_fake.refund_notification("R-BILL")
    day = datetime.fromisoformat(
        wechat_fake.state.orders[payment.out_trade_no]["success_time"]
    ).date()

    lines = provider.statement(merchant_id=payment.merchant_id, day=day)

    assert [(line.kind, line.reference, line.amount) for line in lines] == [
        ("payment", payment.out_trade_no, payment.amount),
        ("refund", "R-BILL", D("1.00")),
    ]
    assert lines[0].fee == (payment.amount * D("0.006")).quantize(D("0.01"))
    assert provider.statement(merchant_id=payment.merchant_id, day=date(2001, 1, 1)) == []
