"""The core journey in a real Chromium: share → referred sign-up → buy → pay → ship → confirm →
three levels of commission, with a real Celery worker delivering the payment notification and
settling the commission.

Four distributors form a chain root → d2 → d3 → d4. The deepest one (d4) shares a product; a new
consumer opens the link anonymously, signs up (the referral cookie binds them to d4), buys two
units at ¥128.00, pays in the sandbox and confirms receipt after the merchant ships in the admin.
d4, d3 and d2 then see 10 %, 5 % and 2 % of ¥256.00 frozen in their wallets; the root sees nothing.
"""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from apps.commissions.models import CommissionRecord
from apps.distributors.models import CustomerBinding
from apps.ledger.models import Wallet
from apps.orders.models import Order
from tests.factories import PASSWORD, ProductFactory, SkuFactory

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

D = Decimal
WORKER_TIMEOUT_MS = 30_000
CONSUMER = "buyer-mei"


@pytest.fixture
def product(merchant):
    product = ProductFactory(merchant=merchant, name="Longjing Green Tea")
    # The cheaper variant is the one the page preselects: the consumer must pick the other one.
    SkuFactory(product=product, name="Sample 50 g", price=D("39.00"), stock=10)
    product.tea = SkuFactory(product=product, name="Tin 250 g", price=D("128.00"), stock=10)
    return product


def sign_in(page, base_url, user, next_path):
    page.goto(f"{base_url}/accounts/login/?next={quote(next_path)}")
    form = page.locator('[data-test="login-form"]')
    form.locator("#id_username").fill(user.username)
    form.locator("#id_password").fill(PASSWORD)
    form.locator('[data-test="login"]').click()
    page.wait_for_url(f"{base_url}{next_path}")


def sign_out(page, base_url):
    page.locator('[data-test="logout"]').click()
    page.wait_for_url(f"{base_url}/")
    expect(page.locator('[data-test="login-link"]')).to_be_visible()


def choose_two_of(page, sku):
    page.locator(f'[data-test="sku-{sku.pk}"] input[name="sku"]').check()
    page.locator('.quantity-field .step[data-step="1"]').click()  # the stepper: 1 → 2
    expect(page.locator("#id_quantity")).to_have_value("2")


def test_shared_link_purchase_pays_three_levels_of_commission(
    live_server,
    site_url,
    celery_worker,
    new_page,
    screenshot,
    merchant,
    chain,
    staff_user,
    product,
):
    root, d2, d3, d4 = chain
    tea = product.tea
    product_path = f"/s/{merchant.slug}/p/{product.pk}/"

    # 1. d4 signs in, reads the product's share link from the share page, sees the QR code load.
    distributor_page = new_page()
    sign_in(distributor_page, site_url, d4.user, f"/s/{merchant.slug}/d/share/")
    share_link = distributor_page.locator(f'[data-test="share-product-{product.pk}"]').input_value()
    assert share_link == f"{site_url}{product_path}?ref={d4.invite_code}"
    qr = distributor_page.locator('[data-test="store-qr"]')
    expect(qr).to_have_attribute("src", f"/s/{merchant.slug}/d/qr.png?target=/s/{merchant.slug}/")
    distributor_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=qr.element_handle()
    )
    screenshot(distributor_page, "d4-share")
    sign_out(distributor_page, site_url)

    # 2. A new consumer opens the link in their own browser, anonymously.
    consumer = new_page()
    consumer.goto(share_link)
    expect(consumer.locator("h1.product-title")).to_have_text("Longjing Green Tea")
    cookies = {c["name"]: c["value"] for c in consumer.context.cookies()}
    assert cookies[f"fx_ref_{merchant.slug}"] == d4.invite_code
    screenshot(consumer, "product-anonymous")

    # Adding to the cart needs an account: off to sign in, then on to sign up.
    choose_two_of(consumer, tea)
    consumer.locator('[data-test="add-to-cart"]').click()
    consumer.wait_for_url(f"{site_url}/accounts/login/?next={product_path}")
    consumer.locator('[data-test="signup-link"]').click()
    consumer.wait_for_url(re.compile(r"/accounts/signup/\?next="))
    consumer.locator("#id_username").fill(CONSUMER)
    consumer.locator("#id_phone").fill("13900000000")
    consumer.locator("#id_password1").fill(PASSWORD)
    consumer.locator("#id_password2").fill(PASSWORD)
    consumer.locator('[data-test="signup"]').click()

    # Back on the product page: no ?ref= in the URL any more, so only the cookie carried the code.
    consumer.wait_for_url(f"{site_url}{product_path}")
    binding = CustomerBinding.objects.get(merchant=merchant, customer__username=CONSUMER)
    assert (binding.distributor_id, binding.source) == (d4.pk, CustomerBinding.Source.LINK)
    assert f"fx_ref_{merchant.slug}" not in {c["name"] for c in consumer.context.cookies()}

    choose_two_of(consumer, tea)
    consumer.locator('[data-test="add-to-cart"]').click()
    expect(consumer.locator('[data-test="messages"]')).to_contain_text("Added to your cart.")

    consumer.locator('[data-test="tab-cart"]').click()
    expect(consumer.locator('[data-test="cart-total"]')).to_have_text("¥256.00")
    consumer.locator('[data-test="checkout"]').click()
    expect(consumer.locator('[data-test="checkout-total"]')).to_have_text("¥256.00")
    consumer.locator("#id_recipient_name").fill("Han Mei")
    consumer.locator("#id_recipient_phone").fill("13900000000")
    consumer.locator("#id_shipping_address").fill("8 Hefang Street, Hangzhou")
    screenshot(consumer, "checkout")
    consumer.locator('[data-test="place-order"]').click()

    consumer.wait_for_url(re.compile(rf"/s/{merchant.slug}/orders/\d+/$"))
    order_id = int(re.search(r"/orders/(\d+)/$", consumer.url)[1])
    order = Order.objects.get(pk=order_id, merchant=merchant, customer__username=CONSUMER)
    assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
        d4.pk,
        d3.pk,
        d2.pk,
    )
    order_url = f"{site_url}/s/{merchant.slug}/orders/{order_id}/"
    status = consumer.locator('[data-test="order-status"]')
    expect(status).to_have_attribute("data-status", "pending_payment")
    expect(consumer.locator('[data-test="order-total"]')).to_have_text("¥256.00")

    # Pay: the sandbox page, then the worker POSTs the signed notification to the live server
    # while the order page keeps refreshing itself.
    consumer.locator('[data-test="pay-order"]').click()
    consumer.wait_for_url(re.compile(r"/pay/sandbox/[^/]+/$"))
    expect(consumer.locator('[data-test="pay-amount"]')).to_have_text("¥256.00")
    screenshot(consumer, "sandbox-pay")
    consumer.locator('[data-test="confirm-payment"]').click()
    consumer.wait_for_url(f"{order_url}?confirming=1")
    expect(status).to_have_attribute("data-status", "paid", timeout=WORKER_TIMEOUT_MS)
    expect(consumer.locator('[data-test="pay-order"]')).to_have_count(0)
    screenshot(consumer, "order-paid")

    # 3. The merchant's staff ship it in the admin.
    admin = new_page()
    admin.goto(f"{site_url}/admin/orders/order/{order_id}/change/")
    admin.locator("#id_username").fill(staff_user.username)
    admin.locator("#id_password").fill(PASSWORD)
    admin.locator('#login-form [type="submit"]').click()
    admin.wait_for_url(f"{site_url}/admin/orders/order/{order_id}/change/")
    admin.locator("a.ship-link").click()
    admin.wait_for_url(f"{site_url}/admin/orders/order/{order_id}/ship/")
    admin.locator(f'input[name="carrier-{order_id}"]').fill("SF Express")
    admin.locator(f'input[name="tracking-{order_id}"]').fill("SF1234567890")
    admin.locator('.submit-row [type="submit"]').click()
    admin.wait_for_url(f"{site_url}/admin/orders/order/{order_id}/change/")
    expect(admin.locator("ul.messagelist")).to_contain_text("1 order(s) shipped.")
    screenshot(admin, "admin-shipped")

    # 4. The consumer reloads, sees the parcel and confirms receipt.
    consumer.goto(order_url)
    expect(status).to_have_attribute("data-status", "shipped")
    expect(consumer.locator('[data-test="tracking"]')).to_contain_text("SF1234567890")
    consumer.locator('[data-test="confirm-receipt"]').click()
    consumer.wait_for_url(order_url)
    expect(status).to_have_attribute("data-status", "completed")
    expect(consumer.locator('[data-test="messages"]')).to_contain_text(
        "Thank you! The order is complete."
    )
    screenshot(consumer, "order-completed")

    # The worker settles the commission once the completion commits.
    celery_worker.wait_until(
        lambda: CommissionRecord.objects.filter(order_id=order_id).count() == 3,
        timeout=WORKER_TIMEOUT_MS / 1000,
        message="three commission records",
    )
    assert sorted(
        CommissionRecord.objects.filter(order_id=order_id).values_list(
            "beneficiary_id", "level", "base_amount", "amount", "status"
        )
    ) == sorted(
        [
            (d4.pk, 1, D("256.00"), D("25.60"), "frozen"),
            (d3.pk, 2, D("256.00"), D("12.80"), "frozen"),
            (d2.pk, 3, D("256.00"), D("5.12"), "frozen"),
        ]
    )
    assert not Wallet.objects.filter(distributor=root).exclude(frozen=0).exists()

    # 5. Each upline sees their share, frozen, on the earnings page; the root sees nothing.
    earnings_path = f"/s/{merchant.slug}/d/"
    for distributor, frozen in [(d4, "25.60"), (d3, "12.80"), (d2, "5.12"), (root, "0.00")]:
        sign_in(distributor_page, site_url, distributor.user, earnings_path)
        page = distributor_page
        expect(page.locator('[data-test="invite-code"]')).to_have_text(distributor.invite_code)
        expect(page.locator('[data-test="wallet-frozen"]')).to_have_text(f"¥{frozen}")
        expect(page.locator('[data-test="wallet-available"]')).to_have_text("¥0.00")
        expect(page.locator('[data-test="wallet-total"]')).to_have_text(f"¥{frozen}")
        records = page.locator('[data-test="commission-record"]')
        if distributor is root:
            expect(records).to_have_count(0)
            expect(page.locator('[data-test="commission-records"]')).to_have_count(0)
        else:
            expect(records).to_have_count(1)
            expect(records.locator('[data-test="record-amount"]')).to_have_text(f"¥{frozen}")
            expect(records).to_contain_text(order.number)
        if distributor in (d4, root):
            screenshot(page, f"earnings-{'d4' if distributor is d4 else 'root'}")
        sign_out(page, site_url)
