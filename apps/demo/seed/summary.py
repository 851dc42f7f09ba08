"""What ``seed_demo`` prints: where to go and the logins (also when the demo was already loaded)."""

from django.conf import settings

from apps.accounts.models import User
from apps.distributors.models import Distributor
from apps.live.models import LiveRoom
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.products.models import Product

from .people import APPLICANT, USERS
from .supply import SUPPLIER_OWNER
from .world import DEMO_PASSWORD, FRUIT, TEA


def summary_text() -> str:
    site = settings.SITE_URL
    tea = Merchant.objects.get(slug=TEA)
    tea_d4 = Distributor.objects.get(merchant=tea, user__username="tea_d4")
    product = Product.objects.filter(merchant=tea).order_by("sort_order", "id").first()
    share_link = f"{site}/s/{TEA}/p/{product.pk}/?ref={tea_d4.invite_code}" if product else "-"
    room = LiveRoom.objects.filter(merchant=tea, status=LiveRoom.Status.LIVE).order_by("id").first()
    live_link = f"{site}/s/{TEA}/live/{room.pk}/?ref={tea_d4.invite_code}" if room else "-"
    alice_orders = Order.objects.filter(merchant=tea, customer__username="alice").order_by("id")
    rows = [
        ("Storefront", f"{site}/s/{TEA}/  ·  {site}/s/{FRUIT}/"),
        ("Admin", f"{site}/admin/"),
        ("API", f"{site}/api/v1/"),
        ("API docs", f"{site}/api/docs/"),
        ("tea_d4's share link", share_link),
        ("Live room", live_link),
    ]
    width = max(len(label) for label, _value in rows)
    lines = ["", "Fenxiao demo", *[f"  {label:<{width}}  {value}" for label, value in rows]]
    lines += ["", f"Logins (password for all: {DEMO_PASSWORD})"]
    admin_existed = not User.objects.filter(username="admin", nickname="平台运营").exists()
    for demo in [*USERS, APPLICANT, SUPPLIER_OWNER]:
        role = demo.role
        if demo.username == "admin" and admin_existed:
            role += " — your existing account; its password was not changed"
        lines.append(f"  {demo.username:<13} {role}")
    if alice_orders:
        numbers = ", ".join(order.number for order in alice_orders)
        lines += ["", f"  alice's demo-tea orders (they pay tea_d4, tea_d3, tea_d2): {numbers}"]
    return "\n".join(lines)


WARNING = (
    f"\nWARNING: these are demo credentials; the password {DEMO_PASSWORD!r} is public. "
    "Never load demo data into a database that anyone else can reach.\n"
)
