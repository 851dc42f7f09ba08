"""The paths each provider test file does not already walk for both fakes: a split or a refund
when the provider times out or answers 5xx (nothing moves twice when asked again), a refund's
notification with a bad signature, and a notification signed by another merchant's account."""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from apps.payments.models import Payment
from apps.payments.providers import SplitFailed, SplitReceiver, provider_get
from apps.payments.services import payment_start
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_approve, refund_execute, refund_request
from tests.services.flows import place

pytestmark = pytest.mark.django_db
D = Decimal
FORM = "application/x-www-form-urlencoded"
PROVIDERS = ["wechatpay", "alipay"]


@pytest.fixture(params=PROVIDERS)
def name(request):
    return request.param


@pytest.fixture
def fake(request, name):
    request.getfixturevalue("wechat_account" if name == "wechatpay" else "alipay_account")
    return request.getfixturevalue("wechat_fake" if name == "wechatpay" else "alipay_fake")


def notify(client, name, notification):
    if name == "wechatpay":
        body, headers = notification
        return client.post(
            "/pay/notify/wechatpay/", data=body, content_type="application/json", headers=headers
        )
    return client.post("/pay/notify/alipay/", notification, content_type=FORM)


def refund_notification(client, name, fake, case, **options):
    if name == "wechatpay":
        body, headers = fake.refund_notification(case.idempotency_key, **options)
        return client.post(
            "/pay/refund-notify/wechatpay/",
            data=body,
            content_type="application/json",
            headers=headers,
        )
    body = fake.refund_notification(case.payment.out_trade_no, case.idempotency_key, **options)
    return client.post("/pay/notify/alipay/", body, content_type=FORM)


@pytest.fixture
def paid(client, merchant, customer, sku, name, fake):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    payment = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider=name,
        client_ip="203.0.113.7",
    )  # fmt: skip
    url = provider_get(name).checkout_url(payment)
    if name == "alipay":
        assert httpx.get(url).status_code == 200  # the trade exists once its page opened
    assert notify(client, name, fake.pay(payment.out_trade_no)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def refund_count(name, fake) -> int:
    return len(fake.state.refunds)


@pytest.mark.parametrize("failure", ["timeout", "5xx"])
def test_a_split_the_provider_could_not_take_fails_and_the_same_key_splits_once_later(
    paid, name, fake, failure
):
    provider = provider_get(name)
    account = "oDistributor1" if name == "wechatpay" else "d1@example.com"
    receivers = [SplitReceiver(receiver="distributor", account=account, amount=D("0.10"))]
    fake.fail_next(failure)

    with pytest.raises(SplitFailed):
        provider.split(paid, receivers, "S-FAIL-1")

    first = provider.split(paid, receivers, "S-FAIL-1")
    assert provider.split(paid, receivers, "S-FAIL-1") == first
    settled = fake.state.profit_orders if name == "wechatpay" else fake.state.settles
    assert len(settled) == 1


@pytest.mark.parametrize("failure", ["timeout", "5xx"])
def test_a_refund_the_provider_could_not_take_stays_approved_and_refunds_once_when_retried(
    client, merchant, customer, paid, name, fake, failure
):
    case = refund_request(
        merchant=merchant, customer=customer, order_id=paid.order_id, kind="order", reason="x"
    )
    fake.fail_next(failure)

    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)

    assert case.status == RefundCase.Status.APPROVED
    assert refund_execute(case_id=case.pk) == "refunding"
    assert refund_execute(case_id=case.pk) == "skipped"
    assert refund_count(name, fake) == 1
    assert refund_notification(client, name, fake, case).status_code == 200
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED


def test_a_refund_notification_with_a_bad_signature_refunds_nothing(
    client, merchant, customer, paid, name, fake
):
    case = refund_request(
        merchant=merchant, customer=customer, order_id=paid.order_id, kind="order", reason="x"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)

    answer = refund_notification(client, name, fake, case, bad_signature=True)

    assert answer.status_code == 400
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDING


def test_a_notification_signed_by_another_merchants_account_pays_nothing_here(
    client, merchant, customer, sku, name, fake, other_merchant
):
    from apps.credentials.models import ProviderAccount

    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    payment = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider=name,
        client_ip="203.0.113.7",
    )  # fmt: skip
    url = provider_get(name).checkout_url(payment)
    if name == "alipay":
        httpx.get(url)
    notification = fake.pay(payment.out_trade_no)
    ProviderAccount.objects.filter(merchant=merchant).update(merchant=other_merchant)

    answer = notify(client, name, notification)

    assert answer.status_code == 404
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def lose_refund_notification(name, fake, case):
    """The provider refunded, and its notification never reached us."""
    if name == "wechatpay":
        fake.refund_notification(case.idempotency_key)


def test_a_refund_whose_notification_was_lost_is_refunded_by_the_sweepers_query(
    merchant, customer, paid, name, fake, monkeypatch
):
    from apps.refunds import tasks as refund_tasks

    case = refund_request(
        merchant=merchant, customer=customer, order_id=paid.order_id, kind="order", reason="x"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    lose_refund_notification(name, fake, case)
    RefundCase.objects.filter(pk=case.pk).update(decided_at=case.decided_at - timedelta(hours=1))
    asked = []
    monkeypatch.setattr(refund_tasks.refund_query_outcome_task, "delay", asked.append)

    assert refund_tasks.refunds_query_refunding() == 1
    assert asked == [case.pk]
    assert refund_tasks.refund_query_outcome_task(case.pk) == "refunded"
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED
    assert refund_tasks.refund_query_outcome_task(case.pk) == "skipped"
    assert refund_tasks.refunds_query_refunding() == 0


def test_a_refund_the_provider_has_not_finished_or_cannot_say_stays_refunding(
    merchant, customer, paid, name, fake
):
    from apps.refunds.services import refund_query_outcome

    case = refund_request(
        merchant=merchant, customer=customer, order_id=paid.order_id, kind="order", reason="x"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    fake.fail_next("5xx")

    assert refund_query_outcome(case_id=case.pk) == "pending"
    if name == "wechatpay":  # still PROCESSING at WeChat Pay until it notifies
        assert refund_query_outcome(case_id=case.pk) == "pending"
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDING


def test_wechat_pays_refund_that_closed_fails_the_case_when_asked(
    merchant, customer, sku, wechat_account, wechat_fake, client
):
    from apps.refunds.services import refund_query_outcome

    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    payment = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider="wechatpay",
        client_ip="203.0.113.7",
    )  # fmt: skip
    provider_get("wechatpay").checkout_url(payment)
    assert notify(client, "wechatpay", wechat_fake.pay(payment.out_trade_no)).status_code == 200
    case = refund_request(
        merchant=merchant, customer=customer, order_id=order.pk, kind="order", reason="x"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    wechat_fake.state.refunds[case.idempotency_key]["status"] = "CLOSED"

    assert refund_query_outcome(case_id=case.pk) == "failed"
    case.refresh_from_db()
    assert case.status == RefundCase.Status.FAILED


def test_a_sandbox_refund_whose_notification_was_lost_is_refunded_by_the_query(
    merchant, customer, sku, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.payments import tasks as payment_tasks
    from apps.refunds.services import refund_query_outcome
    from tests.services.flows import pay

    monkeypatch.setattr(payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *a: None)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    pay(merchant=merchant, customer=customer, order=order)
    case = refund_request(
        merchant=merchant, customer=customer, order_id=order.pk, kind="order", reason="x"
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    assert case.status == RefundCase.Status.REFUNDING

    assert refund_query_outcome(case_id=case.pk) == "refunded"
    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED
