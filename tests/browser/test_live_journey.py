"""A live room in a real Chromium, served by a real daphne (HTTP and WebSockets from one address,
``asgi_live_server``), with a real Celery worker for the payment notification and the settlement.

A distributor shares the room's link; a viewer opens it signed out (the link's code waits in the
referral cookie), signs in to chat (the code binds them to the distributor) and comes back to the
room. The host, in the admin console in a second browser context, pins the room's tea: it pops up
on the viewer's page, at the live price (¥80.00 instead of ¥100.00). The viewer chats (the host
sees it), buys the tea from the pop-up and pays in the sandbox. The host's console shows the sale
("… just bought …"), the room's figures count the paid order, split by the sharing distributor;
and after delivery the distributor's earnings page shows the commission frozen on ¥80.00.
"""

import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.commissions.models import CommissionRecord
from apps.distributors.models import CustomerBinding
from apps.distributors.services import distributor_join
from apps.live import presence, services
from apps.live.models import LivePrice, LiveRoom, LiveRoomProduct
from apps.orders.models import Order
from apps.orders.services import order_ship
from tests.factories import PASSWORD, ProductFactory, SkuFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

D = Decimal
WORKER_TIMEOUT_MS = 30_000
FIGURES_TIMEOUT_MS = 20_000  # the console refreshes its figures every 5 s


@pytest.fixture
def celery_worker_site_url(asgi_live_server):
    """The worker's sandbox notifications go to the daphne server."""
    return asgi_live_server.url


@pytest.fixture
def room(merchant, transactional_db):
    product = ProductFactory(merchant=merchant, name="Longjing Green Tea")
    tea = SkuFactory(product=product, name="Tin 250 g", price=D("100.00"), stock=20)
    room = LiveRoom.objects.create(
        merchant=merchant,
        title="Spring tea live",
        starts_at=timezone.now(),
        stream_url="https://streams.example.com/live/tea.m3u8",
    )
    LiveRoomProduct.objects.create(merchant=merchant, room=room, product=product)
    LivePrice.objects.create(merchant=merchant, room=room, sku=tea, price=D("80.00"))
    presence.room_forget(room.pk)
    services.room_start(room=room, actor=None)
    room.product, room.tea = product, tea
    yield room
    presence.room_forget(room.pk)


def sign_in_admin(page, base_url, user, path):
    page.goto(f"{base_url}{path}")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator('#login-form [type="submit"]').click()
    page.wait_for_url(f"{base_url}{path}")


def test_a_viewer_from_a_shared_room_link_buys_the_pinned_product_at_the_live_price(
    asgi_live_server, celery_worker, new_page, screenshot, merchant, staff_user, room
):
    base = asgi_live_server.url
    distributor = distributor_join(merchant=merchant, user=UserFactory(nickname="Xiao Fen"))
    viewer_user = UserFactory(nickname="Mei")
    room_path = f"/s/{merchant.slug}/live/{room.pk}/"
    link = f"{base}{room_path}?ref={distributor.invite_code}"

    # 1. The viewer opens the distributor's link signed out: the room plays, the socket joins.
    viewer = new_page()
    viewer.goto(link)
    viewer_root = viewer.locator('[data-test="live-room"]')
    expect(viewer_root).to_have_attribute("data-ready", "1")
    expect(viewer_root).to_have_attribute("data-status", "live")
    expect(viewer.locator('[data-test="pinned"]')).to_be_hidden()
    assert {c["name"]: c["value"] for c in viewer.context.cookies()}[
        f"fx_ref_{merchant.slug}"
    ] == distributor.invite_code

    # Signing in (to chat) brings them back to the room, bound to the distributor.
    viewer.locator('[data-test="sign-in-to-chat"]').click()
    viewer.wait_for_url(re.compile(r"/accounts/login/\?next="))
    form = viewer.locator('[data-test="login-form"]')
    form.locator("#id_username").fill(viewer_user.username)
    form.locator("#id_password").fill(PASSWORD)
    form.locator('[data-test="login"]').click()
    viewer.wait_for_url(re.compile(re.escape(room_path)))
    expect(viewer_root).to_have_attribute("data-ready", "1")
    binding = CustomerBinding.objects.get(merchant=merchant, customer=viewer_user)
    assert binding.distributor_id == distributor.pk
    screenshot(viewer, "viewer-signed-in")

    # 2. The host opens the console (a second browser context) and pins the tea.
    host = new_page()
    sign_in_admin(host, base, staff_user, f"/admin/live/liveroom/{room.pk}/console/")
    host_root = host.locator("[data-live-room]")
    expect(host_root).to_have_attribute("data-ready", "1")
    host.locator(f'[data-test="pin-{room.product.pk}"]').click()

    pinned = viewer.locator('[data-test="pinned"]')
    expect(pinned).to_be_visible()
    expect(viewer.locator('[data-test="pinned-name"]')).to_have_text("Longjing Green Tea")
    expect(viewer.locator('[data-test="buy-total"]')).to_have_text("¥80.00")
    expect(host.locator('[data-test="pinned-name"]')).to_have_text("Longjing Green Tea")
    screenshot(viewer, "viewer-pinned")

    # 3. The viewer chats; the host sees it.
    viewer.locator('[data-test="chat-input"]').fill("Is this year's harvest?")
    viewer.locator('[data-test="chat-send"]').click()
    expect(viewer.locator('[data-test="chat-line"]').last).to_contain_text(
        "Is this year's harvest?"
    )
    expect(host.locator('[data-test="chat-line"]').last).to_contain_text("Is this year's harvest?")

    # 4. The viewer buys it from the pop-up at the live price, and pays in the sandbox.
    viewer.locator('[data-test="buy-sku"]').select_option(str(room.tea.pk))
    viewer.locator("#id_recipient_name").fill("Han Mei")
    viewer.locator("#id_recipient_phone").fill("13900000000")
    viewer.locator("#id_shipping_address").fill("8 Hefang Street, Hangzhou")
    screenshot(viewer, "viewer-buying")
    viewer.locator('[data-test="buy"]').click()
    viewer.wait_for_url(re.compile(rf"/s/{merchant.slug}/orders/\d+/$"))
    order_id = int(re.search(r"/orders/(\d+)/$", viewer.url)[1])
    order = Order.objects.get(pk=order_id, merchant=merchant, customer=viewer_user)
    assert (order.live_room_id, order.distributor_id) == (room.pk, distributor.pk)
    assert (order.goods_amount, order.payable_amount) == (D("100.00"), D("80.00"))
    assert list(order.adjustments.values_list("step", "amount")) == [("promotion", D("20.00"))]
    expect(viewer.locator('[data-test="order-total"]')).to_have_text("¥80.00")

    viewer.locator('[data-test="pay-order"]').click()
    viewer.wait_for_url(re.compile(r"/pay/sandbox/[^/]+/$"))
    expect(viewer.locator('[data-test="pay-amount"]')).to_have_text("¥80.00")
    viewer.locator('[data-test="confirm-payment"]').click()
    status = viewer.locator('[data-test="order-status"]')
    expect(status).to_have_attribute("data-status", "paid", timeout=WORKER_TIMEOUT_MS)

    # 5. The console announces the sale and its figures count it, split by the distributor.
    expect(host.locator("[data-notice]")).to_contain_text("just bought Longjing Green Tea")
    expect(host.locator('[data-test="figure-orders"]')).to_have_text(
        "1", timeout=FIGURES_TIMEOUT_MS
    )
    expect(host.locator('[data-test="figure-paid"]')).to_have_text("80.00")
    expect(host.locator("[data-figure-rows] tr")).to_have_text(
        re.compile(r"Xiao Fen\s*1\s*¥80\.00")
    )
    screenshot(host, "host-figures")

    # 6. Delivered and confirmed: the worker settles; the distributor sees the commission frozen.
    order_ship(
        merchant=merchant,
        order_id=order_id,
        carrier="SF Express",
        tracking_number="SF1234567890",
        actor=staff_user,
    )
    viewer.goto(f"{base}/s/{merchant.slug}/orders/{order_id}/")
    viewer.locator('[data-test="confirm-receipt"]').click()
    expect(status).to_have_attribute("data-status", "completed")
    record = celery_worker.wait_until(
        lambda: CommissionRecord.objects.filter(order_id=order_id, level=1).first(),
        timeout=WORKER_TIMEOUT_MS / 1000,
        message="the distributor's commission record",
    )
    assert (record.beneficiary_id, record.base_amount, record.status) == (
        distributor.pk,
        D("80.00"),
        "frozen",
    )
    assert record.amount > 0
    earnings = new_page()
    earnings.goto(f"{base}/accounts/login/?next=/s/{merchant.slug}/d/")
    form = earnings.locator('[data-test="login-form"]')
    form.locator("#id_username").fill(distributor.user.username)
    form.locator("#id_password").fill(PASSWORD)
    form.locator('[data-test="login"]').click()
    earnings.wait_for_url(f"{base}/s/{merchant.slug}/d/")
    expect(earnings.locator('[data-test="wallet-frozen"]')).to_have_text(f"¥{record.amount}")
    screenshot(earnings, "distributor-frozen")


@pytest.fixture
def one_second_batches(monkeypatch):
    """The daphne of ``asgi_live_server`` (started after this) coalesces a second of events."""
    monkeypatch.setenv("FENXIAO_LIVE_BATCH_MILLISECONDS", "1000")


def test_the_room_page_shows_every_event_of_a_batch_frame(
    one_second_batches, asgi_live_server, new_page, merchant, room
):
    viewer = new_page()
    frames: list[str] = []
    viewer.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda payload: frames.append(str(payload))),
    )
    viewer.goto(f"{asgi_live_server.url}/s/{merchant.slug}/live/{room.pk}/")
    root = viewer.locator('[data-test="live-room"]')
    expect(root).to_have_attribute("data-ready", "1")
    # Three messages within a window, then a pin (which does not wait): at least the last two
    # messages and the pin reach the page in one batch frame.
    for number, nickname in enumerate(("Ann", "Bo", "Cy")):
        services.chat_post(room=room, user=UserFactory(nickname=nickname), text=f"hello {number}")
    services.room_pin(room=room, product_id=room.product.pk, actor=None)

    expect(viewer.locator('[data-test="pinned-name"]')).to_have_text("Longjing Green Tea")
    expect(viewer.locator('[data-test="chat-line"]')).to_have_text(
        ["A*: hello 0", "B*: hello 1", "C*: hello 2"]
    )
    batches = [json.loads(frame) for frame in frames if frame.startswith('{"type": "batch"')]
    assert [message["type"] for message in batches[-1]["messages"]][-3:] == [
        "chat",
        "chat",
        "pinned",
    ]
