"""The supply chain in a real Chromium: a company applies with its licence, the operator approves
it, the supplier lists honey, a store picks it at its own price, a consumer bound to a distributor
buys it, the supplier ships its parcel, the consumer confirms, and the distributors see their
frozen commission and the supplier its frozen share (supply price × quantity) in its back office —
with a real Celery worker delivering the payment and settling.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.commissions.models import CommissionRecord
from apps.dropship.models import Shipment
from apps.orders.models import Order
from apps.products.models import Sku
from apps.suppliers.models import SupplierApplication, SupplySku
from tests.factories import PASSWORD, UserFactory
from tests.services.flows import bind
from tests.suppliers.conftest import png_bytes

from .test_purchase_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

D = Decimal
WORKER_TIMEOUT_MS = 30_000


def admin_sign_in(page, site_url, username, next_path):
    page.goto(f"{site_url}/admin/login/?next={next_path}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator('#login-form [type="submit"]').click()
    page.wait_for_url(f"{site_url}{next_path}")


def test_apply_list_pick_buy_ship_and_everyone_sees_their_share(
    live_server,
    site_url,
    celery_worker,
    new_page,
    screenshot,
    merchant,
    chain,
    staff_user,
    tmp_path,
):
    _root, d2, d3, d4 = chain
    User.objects.create_user("operator", password=PASSWORD, is_staff=True, is_superuser=True)

    # 1. A company applies, with its business licence.
    applicant = new_page()
    applicant.goto(f"{site_url}/suppliers/apply/")
    form = applicant.locator('[data-test="supplier-apply-form"]')
    for field, value in {
        "username": "honey-boss",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "company_name": "Honey Valley",
        "slug": "honey-valley",
        "categories": "honey",
        "contact_name": "Zhao Feng",
        "contact_phone": "13900139000",
        "contact_email": "zhao@example.com",
    }.items():
        form.locator(f"#id_{field}").fill(value)
    licence = tmp_path / "licence.png"
    licence.write_bytes(png_bytes())
    form.locator("#id_licence").set_input_files(str(licence))
    screenshot(applicant, "apply")
    form.locator('[data-test="submit-application"]').click()
    applicant.wait_for_url(f"{site_url}/suppliers/apply/status/")
    expect(applicant.locator('[data-test="application-status"]')).to_have_text("Pending review")
    application = SupplierApplication.objects.get(slug="honey-valley")

    # 2. The operator approves it in the admin.
    operator = new_page()
    change = f"/admin/suppliers/supplierapplication/{application.pk}/change/"
    admin_sign_in(operator, site_url, "operator", change)
    operator.locator('[data-test="approve"]').click()
    operator.wait_for_url(f"{site_url}{change}")
    expect(operator.locator("ul.messagelist")).to_contain_text("Honey Valley approved")
    applicant.reload()
    expect(applicant.locator('[data-test="application-status"]')).to_have_text("Approved")

    # 3. The supplier lists a product with one SKU in its back office.
    supplier = new_page()
    admin_sign_in(supplier, site_url, "honey-boss", "/admin/suppliers/supplyproduct/add/")
    supplier.locator("#id_name").fill("Linden Honey")
    row = "#id_skus-0-"
    for field, value in {
        "name": "500 g",
        "code": "LH-500",
        "supply_price": "42.00",
        "suggested_retail_price": "79.00",
        "min_retail_price": "60.00",
        "stock": "30",
    }.items():
        supplier.locator(f"{row}{field}").fill(value)
    supplier.locator('[name="_save"]').click()
    supplier.wait_for_url(f"{site_url}/admin/suppliers/supplyproduct/")
    pool = SupplySku.objects.get(code="LH-500")
    assert (pool.supplier.slug, pool.stock, pool.supply_price) == ("honey-valley", 30, D("42.00"))

    # 4. The store picks it at its own price (the floor: 42 / 0.69 = 60.87 > the 60.00 minimum).
    store = new_page()
    pick_path = f"/admin/dropship/catalogueproduct/{pool.product_id}/pick/"
    admin_sign_in(store, site_url, staff_user.username, pick_path)
    expect(store.locator(".help").first).to_contain_text("at least ¥60.87")
    store.locator(f"#id_price-{pool.pk}").fill("60.50")
    store.locator('[data-test="confirm-pick"]').click()
    expect(store.locator(".errornote, .errorlist").first).to_contain_text("¥60.87")
    store.locator(f"#id_price-{pool.pk}").fill("88.00")
    store.locator('[data-test="confirm-pick"]').click()
    store.wait_for_url(re.compile(r"/admin/products/product/\d+/change/$"))
    sku = Sku.objects.get(merchant=merchant, supply_sku=pool)
    screenshot(store, "picked")

    # 5. A consumer bound to d4 buys two jars and pays.
    customer = UserFactory(username="buyer-lan")
    bind(merchant=merchant, customer=customer, distributor=d4)
    consumer = new_page()
    product_path = f"/s/{merchant.slug}/p/{sku.product_id}/"
    sign_in(consumer, site_url, customer, product_path)
    expect(consumer.locator(f'[data-test="sku-{sku.pk}"] [data-test="stock"]')).to_have_text(
        "30 left"
    )
    consumer.locator(f'[data-test="sku-{sku.pk}"] input[name="sku"]').check()
    consumer.locator('.quantity-field .step[data-step="1"]').click()
    consumer.locator('[data-test="add-to-cart"]').click()
    consumer.locator('[data-test="tab-cart"]').click()
    expect(consumer.locator('[data-test="cart-total"]')).to_have_text("¥176.00")
    consumer.locator('[data-test="checkout"]').click()
    consumer.locator("#id_recipient_name").fill("Lan Ting")
    consumer.locator("#id_recipient_phone").fill("13700000000")
    consumer.locator("#id_shipping_address").fill("9 West Lake Road, Hangzhou")
    consumer.locator('[data-test="place-order"]').click()
    consumer.wait_for_url(re.compile(rf"/s/{merchant.slug}/orders/\d+/$"))
    order_url = consumer.url
    order = Order.objects.get(pk=int(re.search(r"/orders/(\d+)/$", order_url)[1]))
    consumer.locator('[data-test="pay-order"]').click()
    consumer.wait_for_url(re.compile(r"/pay/sandbox/[^/]+/$"))
    consumer.locator('[data-test="confirm-payment"]').click()
    status = consumer.locator('[data-test="order-status"]')
    expect(status).to_have_attribute("data-status", "paid", timeout=WORKER_TIMEOUT_MS)
    assert SupplySku.objects.get(pk=pool.pk).stock == 28

    # 6. The supplier ships its parcel: it sees the recipient, not the store's money.
    parcel = Shipment.objects.get(order=order)
    supplier.goto(f"{site_url}/admin/dropship/suppliershipment/{parcel.pk}/change/")
    expect(supplier.locator("body")).to_contain_text("Lan Ting")
    expect(supplier.locator("body")).not_to_contain_text("176.00")
    supplier.locator('[data-test="ship"]').click()
    supplier.locator("#id_carrier").fill("ZTO Express")
    supplier.locator("#id_tracking_number").fill("ZTO778899")
    screenshot(supplier, "supplier-ship")
    supplier.locator('[data-test="confirm-ship"]').click()
    expect(supplier.locator("ul.messagelist")).to_contain_text("Parcel shipped.")

    # 7. The consumer sees the parcel and confirms receipt; the worker settles commission.
    consumer.goto(order_url)
    expect(status).to_have_attribute("data-status", "shipped")
    expect(consumer.locator('[data-test="parcel"]')).to_contain_text("ZTO778899")
    consumer.locator('[data-test="confirm-receipt"]').click()
    consumer.wait_for_url(order_url)
    expect(status).to_have_attribute("data-status", "completed")
    screenshot(consumer, "completed")
    celery_worker.wait_until(
        lambda: CommissionRecord.objects.filter(order_id=order.pk).count() == 3,
        timeout=WORKER_TIMEOUT_MS / 1000,
        message="three commission records",
    )

    # 8. The distributors see their frozen shares of ¥176.00: 10 %, 5 %, 2 %.
    distributor_page = new_page()
    for distributor, frozen in [(d4, "17.60"), (d3, "8.80"), (d2, "3.52")]:
        sign_in(distributor_page, site_url, distributor.user, f"/s/{merchant.slug}/d/")
        expect(distributor_page.locator('[data-test="wallet-frozen"]')).to_have_text(f"¥{frozen}")
        distributor_page.locator('[data-test="logout"]').click()
        distributor_page.wait_for_url(f"{site_url}/")

    # 9. The supplier sees its frozen share of the sale in its back office: 2 × ¥42.00, owed by
    # this store since the payment, with the movement on its statement.
    supplier.goto(f"{site_url}/admin/")
    supplier.get_by_role("link", name="Supplier: money and statement").click()
    supplier.wait_for_url(f"{site_url}/admin/finance/supplier/")
    balance = supplier.locator('[data-test="supplier-balance"]')
    expect(balance).to_have_count(1)
    expect(balance).to_contain_text(merchant.name)
    expect(balance.locator('[data-test="frozen"]')).to_have_text("¥84.00")
    expect(balance.locator('[data-test="available"]')).to_have_text("¥0.00")
    statement = supplier.locator('[data-test="statement-row"]')
    expect(statement).to_have_count(1)
    expect(statement).to_contain_text(order.number)
    expect(statement).to_contain_text("¥84.00")
    screenshot(supplier, "supplier-money")
