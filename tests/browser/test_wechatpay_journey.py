"""The happy path with a real provider, in a real Chromium: a consumer pays an order on the
WeChat Pay fake's H5 page, the fake's signed, encrypted notification pays it, the store refunds
it through WeChat Pay, and the fake's refund notification refunds it."""

import pytest
from playwright.sync_api import expect

from apps.payments.models import Payment
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_approve, refund_request
from tests.payments.conftest import (  # noqa: F401 - fixtures
    wechat_account,  # noqa: F811 - the fixture imported above
    wechat_fake,  # noqa: F811
    wechat_keys,
    wechat_server,
)
from tests.services.flows import place

from .test_purchase_journey import sign_in

pytestmark = pytest.mark.browser


def test_pay_with_the_wechat_h5_page_then_refund(
    live_server,
    site_url,
    new_page,
    screenshot,
    merchant,
    customer,
    sku,
    wechat_account,  # noqa: F811 - the fixture imported above
    wechat_fake,  # noqa: F811
):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    order_path = f"/s/{merchant.slug}/orders/{order.pk}/"
    page = new_page()
    sign_in(page, site_url, customer, order_path)

    page.locator('[data-test="pay-wechatpay"]').click()
    page.wait_for_url(f"{wechat_fake.url}/pay/h5/**")
    expect(page.locator("#amount")).to_have_text(f"¥{order.payable_amount:.2f}")
    screenshot(page, "wechat-h5")
    page.locator("#confirm").click()
    expect(page.locator("#result")).to_contain_text("callback answered 200")

    page.goto(f"{site_url}{order_path}")
    expect(page.locator('[data-test="order-status"]')).to_have_attribute("data-status", "paid")
    payment = Payment.objects.get(order=order)
    assert (payment.provider, payment.status) == ("wechatpay", Payment.Status.SUCCEEDED)

    case = refund_request(
        merchant=merchant, customer=customer, order_id=order.pk, kind="order", reason="changed mind"
    )
    case = refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    assert case.status == RefundCase.Status.REFUNDING
    notification = wechat_fake.refund_notification(case.idempotency_key)
    assert wechat_fake.deliver(f"{site_url}/pay/refund-notify/wechatpay/", *notification) == 200

    case.refresh_from_db()
    assert case.status == RefundCase.Status.REFUNDED
    page.goto(f"{site_url}{order_path}")
    # Refunded in full before shipping: the order is cancelled.
    expect(page.locator('[data-test="order-status"]')).to_have_attribute("data-status", "cancelled")
    screenshot(page, "refunded")
