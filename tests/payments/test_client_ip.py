"""WeChat Pay's H5 order sends the payer's own address: REMOTE_ADDR, or the first hop of
X-Forwarded-For only where FENXIAO_TRUST_X_FORWARDED_FOR says a proxy in front writes it."""

import pytest
from django.test import RequestFactory

from apps.core.client_ip import request_client_ip
from tests.services.flows import place

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("trusted", "meta", "expected"),
    [
        (False, {"REMOTE_ADDR": "198.51.100.23"}, "198.51.100.23"),
        (
            False,
            {"REMOTE_ADDR": "198.51.100.23", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            "198.51.100.23",
        ),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.9"}, "1.2.3.4"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-ip"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
        (False, {"REMOTE_ADDR": "2001:db8::1"}, "2001:db8::1"),
        (False, {"REMOTE_ADDR": ""}, None),
    ],
)
def test_the_client_address_is_remote_addr_unless_a_trusted_proxy_forwards(
    settings, trusted, meta, expected
):
    settings.FENXIAO_TRUST_X_FORWARDED_FOR = trusted
    request = RequestFactory().get("/", **meta)

    assert request_client_ip(request) == expected


def test_the_storefront_checkout_sends_the_consumers_address_to_wechat_pay(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    client.force_login(customer)

    answer = client.post(
        f"/s/{merchant.slug}/orders/{order.pk}/pay/",
        {"provider": "wechatpay"},
        REMOTE_ADDR="198.51.100.23",
    )

    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{wechat_fake.url}/pay/h5/")
    (sent,) = wechat_fake.state.orders.values()
    assert sent["scene_info"] == {"payer_client_ip": "198.51.100.23", "h5_info": {"type": "Wap"}}


def test_the_api_checkout_behind_a_trusted_proxy_sends_the_first_forwarded_hop(
    settings, merchant, customer, sku, wechat_account, wechat_fake
):
    from rest_framework.test import APIClient

    settings.FENXIAO_TRUST_X_FORWARDED_FOR = True
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    api = APIClient()
    api.force_authenticate(customer)

    answer = api.post(
        f"/api/v1/stores/{merchant.slug}/orders/{order.pk}/pay/",
        {"provider": "wechatpay"},
        format="json",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.99, 10.0.0.2",
    )

    assert answer.status_code == 200, answer.content
    (sent,) = wechat_fake.state.orders.values()
    assert sent["scene_info"]["payer_client_ip"] == "203.0.113.99"


def test_a_started_payment_keeps_the_address_of_the_latest_start(
    merchant, customer, sku, wechat_account, wechat_fake
):
    from apps.payments.services import payment_start

    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    first = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider="wechatpay",
        client_ip="198.51.100.1",
    )  # fmt: skip
    again = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider="wechatpay",
        client_ip="198.51.100.2",
    )  # fmt: skip

    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.payer_client_ip == "198.51.100.2"
