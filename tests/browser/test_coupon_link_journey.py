"""The marketing journey in a real Chromium: a distributor's coupon link → a newcomer signs up
and claims (bound to the distributor on the way) → buys a flash-sale item with the coupon and
points → pays in the sandbox (a real Celery worker delivers the notification) → the order page
shows each saving → the distributor's commission is on what was paid after every discount.

The tea costs ¥100.00 and sells at ¥80.00 in a flash sale; the coupon takes ¥10 off ¥50; 300
points take ¥3 off. The consumer pays ¥67.00 and the distributor (level 1, 10 %) earns ¥6.70.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.commissions.models import CommissionRecord
from apps.distributors.models import CustomerBinding
from apps.marketing.models import CouponGrant, FlashSale
from apps.marketing.services import flash_sale_create
from apps.members.models import Member
from apps.members.services import points_adjust
from apps.orders.models import Order
from apps.orders.services import order_ship
from tests.factories import PASSWORD, ProductFactory, SkuFactory
from tests.marketing import factories as f

from .test_purchase_journey import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

D = Decimal
WORKER_TIMEOUT_MS = 30_000
CONSUMER = "coupon-lin"


def test_coupon_link_sign_up_claim_flash_buy_with_coupon_and_points(
    live_server, site_url, celery_worker, new_page, screenshot, merchant, chain, staff_user
):
    distributor = chain[3]
    product = ProductFactory(merchant=merchant, name="Longjing Green Tea")
    tea = SkuFactory(product=product, name="Tin 250 g", price=D("100.00"), stock=10)
    now = timezone.now()
    sale = flash_sale_create(
        merchant=merchant,
        sku=tea,
        name="Noon flash",
        price=D("80.00"),
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        pool=5,
        per_person_limit=2,
    )
    coupon = f.coupon(
        merchant, name="¥10 off ¥50", claimable=False, distributor_shareable=True, stackable=True
    )

    # 1. The distributor copies the coupon link from the share page.
    distributor_page = new_page()
    sign_in(distributor_page, site_url, distributor.user, f"/s/{merchant.slug}/d/share/")
    link = distributor_page.locator(f'[data-test="share-coupon-{coupon.pk}"]').input_value()
    coupon_path = f"/s/{merchant.slug}/coupons/{coupon.pk}/"
    assert link == f"{site_url}{coupon_path}?ref={distributor.invite_code}"
    screenshot(distributor_page, "distributor-share-coupon")
    sign_out(distributor_page, site_url)

    # 2. A newcomer opens it signed out, signs up from the coupon page and comes back to claim.
    consumer = new_page()
    consumer.goto(link)
    expect(consumer.locator('[data-test="coupon"] h1')).to_have_text("¥10 off ¥50")
    expect(consumer.locator('[data-test="coupon-from"]')).to_be_visible()
    screenshot(consumer, "coupon-link-signed-out")
    consumer.locator('[data-test="coupon-sign-up"]').click()
    consumer.wait_for_url(re.compile(r"/accounts/signup/\?next="))
    consumer.locator("#id_username").fill(CONSUMER)
    consumer.locator("#id_password1").fill(PASSWORD)
    consumer.locator("#id_password2").fill(PASSWORD)
    consumer.locator('[data-test="signup"]').click()
    consumer.wait_for_url(link)
    binding = CustomerBinding.objects.get(merchant=merchant, customer__username=CONSUMER)
    assert binding.distributor_id == distributor.pk
    consumer.locator('[data-test="coupon-claim"]').click()
    consumer.wait_for_url(f"{site_url}/s/{merchant.slug}/member/")
    expect(consumer.locator('[data-test="messages"]')).to_contain_text("Coupon claimed")
    grant = CouponGrant.objects.get(customer__username=CONSUMER)
    assert (grant.distributor_id, grant.source) == (distributor.pk, "distributor")
    expect(
        consumer.locator(f'[data-test="coupons-unused"] [data-test="grant-{grant.pk}"]')
    ).to_be_visible()

    # The store gives the newcomer 500 points (staff adjustment), shown on their member page.
    member = Member.objects.get(merchant=merchant, user__username=CONSUMER)
    points_adjust(member=member, points=500, note="welcome", key="welcome")
    consumer.reload()
    expect(consumer.locator('[data-test="points-balance"]')).to_have_text("500")
    screenshot(consumer, "membership")

    # 3. The product page shows the flash price with its countdown and what is left.
    consumer.goto(f"{site_url}/s/{merchant.slug}/p/{product.pk}/")
    expect(consumer.locator('[data-test="shown-price"]')).to_have_text("¥80.00")
    expect(consumer.locator('[data-test="flash-left"]')).to_contain_text("5 left at this price")
    expect(consumer.locator('[data-test="countdown"]')).to_have_text(
        re.compile(r"Ends in 1:5\d:\d\d")
    )
    screenshot(consumer, "product-flash")
    consumer.locator('[data-test="add-to-cart"]').click()
    expect(consumer.locator('[data-test="messages"]')).to_contain_text("Added to your cart.")

    # 4. The cart lists the savings; checkout takes the coupon and 300 points.
    consumer.locator('[data-test="tab-cart"]').click()
    expect(consumer.locator('[data-test="saving-promotion"]')).to_contain_text("−¥20.00")
    expect(consumer.locator('[data-test="saving-coupon"]')).to_contain_text("−¥10.00")
    expect(consumer.locator('[data-test="cart-total"]')).to_have_text("¥70.00")
    consumer.locator('[data-test="checkout"]').click()
    consumer.locator('[data-test="points-choice"]').fill("300")
    consumer.locator('[data-test="apply-discounts"]').click()
    expect(consumer.locator('[data-test="checkout-total"]')).to_have_text("¥67.00")
    expect(consumer.locator('[data-test="saving-points"]')).to_contain_text("−¥3.00")
    consumer.locator("#id_recipient_name").fill("Lin Yu")
    consumer.locator("#id_recipient_phone").fill("13900000001")
    consumer.locator("#id_shipping_address").fill("8 Hefang Street, Hangzhou")
    screenshot(consumer, "checkout-savings")
    consumer.locator('[data-test="place-order"]').click()
    consumer.wait_for_url(re.compile(rf"/s/{merchant.slug}/orders/\d+/$"))
    order_id = int(re.search(r"/orders/(\d+)/$", consumer.url)[1])
    order_url = f"{site_url}/s/{merchant.slug}/orders/{order_id}/"
    order = Order.objects.get(pk=order_id, merchant=merchant)
    assert (order.payable_amount, order.distributor_id) == (D("67.00"), distributor.pk)
    assert FlashSale.objects.get(pk=sale.pk).remaining == 4

    # 5. Pay in the sandbox; the worker delivers the notification.
    consumer.locator('[data-test="pay-order"]').click()
    consumer.wait_for_url(re.compile(r"/pay/sandbox/[^/]+/$"))
    expect(consumer.locator('[data-test="pay-amount"]')).to_have_text("¥67.00")
    consumer.locator('[data-test="confirm-payment"]').click()
    consumer.wait_for_url(f"{order_url}?confirming=1")
    status = consumer.locator('[data-test="order-status"]')
    expect(status).to_have_attribute("data-status", "paid", timeout=WORKER_TIMEOUT_MS)

    # The order page shows each saving.
    expect(consumer.locator('[data-test="order-saving-promotion"]')).to_contain_text("−¥20.00")
    expect(consumer.locator('[data-test="order-saving-coupon"]')).to_contain_text("−¥10.00")
    expect(consumer.locator('[data-test="order-saving-points"]')).to_contain_text("−¥3.00")
    expect(consumer.locator('[data-test="order-discount"]')).to_contain_text("−¥33.00")
    screenshot(consumer, "order-savings")

    # 6. Shipped, received: the worker settles commission on the ¥67.00 paid.
    order_ship(
        merchant=merchant,
        order_id=order_id,
        carrier="SF Express",
        tracking_number="SF1",
        actor=staff_user,
    )
    consumer.goto(order_url)
    consumer.locator('[data-test="confirm-receipt"]').click()
    expect(status).to_have_attribute("data-status", "completed")
    celery_worker.wait_until(
        lambda: CommissionRecord.objects.filter(order_id=order_id, level=1).exists(),
        timeout=WORKER_TIMEOUT_MS / 1000,
        message="the level-1 commission record",
    )
    record = CommissionRecord.objects.get(order_id=order_id, level=1)
    assert (record.beneficiary_id, record.base_amount, record.amount) == (
        distributor.pk,
        D("67.00"),
        D("6.70"),
    )
    sign_in(distributor_page, site_url, distributor.user, f"/s/{merchant.slug}/d/")
    expect(distributor_page.locator('[data-test="wallet-frozen"]')).to_have_text("¥6.70")
    records = distributor_page.locator('[data-test="commission-record"]')
    expect(records.locator('[data-test="record-amount"]')).to_have_text("¥6.70")
    screenshot(distributor_page, "distributor-commission")
