"""A consumer who starts paying with one provider and then picks another: the first checkout is
superseded (closed here and at its provider), and money that still arrives for it is refunded
automatically, never paying the order twice."""

from decimal import Decimal

import httpx
import pytest

from apps.orders.models import Order
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment
from apps.payments.providers import provider_get
from apps.payments.services import payment_start
from apps.refunds import tasks as refund_tasks
from apps.refunds.models import RefundCase
from tests.services.flows import place

pytestmark = pytest.mark.django_db
D = Decimal
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def run_tasks(monkeypatch):
    """The tasks the commit enqueues run at once, in this thread."""
    for task in (
        payment_tasks.payment_close_at_provider_task,
        refund_tasks.payment_refund_superseded_task,
    ):
        monkeypatch.setattr(task, "delay", task)


@pytest.fixture
def order(merchant, customer, sku):
    return place(merchant=merchant, customer=customer, lines=[(sku, 2)])


def start(merchant, customer, order, provider):
    return payment_start(
        merchant=merchant,
        customer=customer,
        order_id=order.pk,
        provider=provider,
        client_ip="203.0.113.7",
    )


def post_wechat(client, notification):
    body, headers = notification
    return client.post(
        "/pay/notify/wechatpay/", data=body, content_type="application/json", headers=headers
    )


def test_picking_alipay_after_wechat_pay_closes_the_wechat_checkout_there_too(
    merchant, customer, order, wechat_account, alipay_account, wechat_fake, alipay_fake,
    run_tasks, django_capture_on_commit_callbacks,
):  # fmt: skip
    wechat = start(merchant, customer, order, "wechatpay")
    provider_get("wechatpay").checkout_url(wechat)

    with django_capture_on_commit_callbacks(execute=True):
        alipay = start(merchant, customer, order, "alipay")

    wechat.refresh_from_db()
    assert wechat.status == Payment.Status.SUPERSEDED
    assert (alipay.provider, alipay.status) == ("alipay", Payment.Status.PENDING)
    assert alipay.pk != wechat.pk
    assert wechat_fake.state.orders[wechat.out_trade_no]["trade_state"] == "CLOSED"
    assert start(merchant, customer, order, "alipay").pk == alipay.pk


def test_money_that_arrives_for_the_superseded_checkout_is_refunded_and_pays_nothing(
    client, merchant, customer, order, wechat_account, alipay_account, wechat_fake, alipay_fake,
    run_tasks, django_capture_on_commit_callbacks,
):  # fmt: skip
    wechat = start(merchant, customer, order, "wechatpay")
    provider_get("wechatpay").checkout_url(wechat)
    paid_at_wechat = wechat_fake.pay(wechat.out_trade_no)  # paid just before the switch
    with django_capture_on_commit_callbacks(execute=True):
        alipay = start(merchant, customer, order, "alipay")

    with django_capture_on_commit_callbacks(execute=True):
        answer = post_wechat(client, paid_at_wechat)

    assert answer.status_code == 200
    wechat.refresh_from_db()
    order.refresh_from_db()
    assert wechat.status == Payment.Status.REFUND_REQUIRED
    assert order.status == Order.Status.PENDING_PAYMENT
    (case,) = RefundCase.objects.filter(payment=wechat)
    assert (case.kind, case.status, case.amount) == (
        RefundCase.Kind.UNCLAIMED_PAYMENT,
        RefundCase.Status.REFUNDING,
        wechat.amount,
    )
    assert wechat_fake.state.refunds[case.idempotency_key]["refund"] == int(wechat.amount * 100)

    # The duplicate of that notification changes nothing, the refund's notification ends it,
    # and the order is paid once, through Alipay.
    with django_capture_on_commit_callbacks(execute=True):
        assert post_wechat(client, paid_at_wechat).status_code == 200
    assert RefundCase.objects.filter(payment=wechat).count() == 1
    body, headers = wechat_fake.refund_notification(case.idempotency_key)
    refunded = client.post(
        "/pay/refund-notify/wechatpay/", data=body, content_type="application/json", headers=headers
    )
    assert refunded.status_code == 200
    wechat.refresh_from_db()
    assert wechat.status == Payment.Status.REFUNDED
    assert httpx.get(provider_get("alipay").checkout_url(alipay)).status_code == 200
    notice = alipay_fake.pay(alipay.out_trade_no)
    assert client.post("/pay/notify/alipay/", notice, content_type=FORM).content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert list(
        Payment.objects.filter(order=order).order_by("id").values_list("provider", "status")
    ) == [("wechatpay", Payment.Status.REFUNDED), ("alipay", Payment.Status.SUCCEEDED)]


def test_an_alipay_checkout_superseded_by_the_sandbox_is_closed_at_alipay(
    merchant, customer, order, alipay_account, alipay_fake, run_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    alipay = start(merchant, customer, order, "alipay")
    page = httpx.get(provider_get("alipay").checkout_url(alipay))
    assert page.status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        start(merchant, customer, order, "sandbox")

    assert alipay_fake.state.trades[alipay.out_trade_no]["trade_status"] == "TRADE_CLOSED"
    token = alipay_fake.state.trades[alipay.out_trade_no]["token"]
    assert httpx.post(f"{alipay_fake.url}/pay/{token}").status_code == 400


def test_closing_an_unopened_alipay_checkout_is_not_an_error(
    merchant, customer, order, alipay_account, alipay_fake, run_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    alipay = start(merchant, customer, order, "alipay")

    with django_capture_on_commit_callbacks(execute=True):
        start(merchant, customer, order, "sandbox")

    assert payment_tasks.payment_close_at_provider_task(alipay.pk) == "closed"


def test_the_sandbox_pay_page_refuses_a_superseded_payment(
    client, merchant, customer, order, wechat_account, wechat_fake, run_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    sandbox = start(merchant, customer, order, "sandbox")
    with django_capture_on_commit_callbacks(execute=True):
        start(merchant, customer, order, "wechatpay")
    client.force_login(customer)

    answer = client.post(f"/pay/sandbox/{sandbox.out_trade_no}/")

    assert answer.status_code == 302
    sandbox.refresh_from_db()
    assert sandbox.status == Payment.Status.SUPERSEDED


def test_a_provider_that_cannot_be_reached_is_asked_to_close_again(
    merchant, customer, order, wechat_account, wechat_fake
):
    from celery.exceptions import Retry

    wechat = start(merchant, customer, order, "wechatpay")
    provider_get("wechatpay").checkout_url(wechat)
    start(merchant, customer, order, "sandbox")
    wechat_fake.fail_next("5xx")

    with pytest.raises(Retry):
        payment_tasks.payment_close_at_provider_task(wechat.pk)
    assert payment_tasks.payment_close_at_provider_task(wechat.pk) == "closed"
