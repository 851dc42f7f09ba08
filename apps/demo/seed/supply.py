"""The demo's supplier (供应商): applied with its licence, approved by the operator, listing honey
that both demo stores picked at their own prices; bob's order in demo-tea mixes a supplied jar with
the store's own tea, so it travels as two parcels (the supplier's shipped, the store's to ship)."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.dropship.models import Shipment
from apps.dropship.services import shipment_ship, supply_pick
from apps.orders.services import cart_add_item, order_place_from_cart
from apps.products.models import Sku
from apps.suppliers.models import SupplyProduct, SupplySku
from apps.suppliers.services import supplier_application_approve, supplier_application_submit

from .orders import RECIPIENTS, _pay
from .people import DemoUser
from .world import DEMO_PASSWORD, FRUIT, TEA, DemoWorld

SUPPLIER_OWNER = DemoUser(
    "honey_admin",
    "蜂之谷·赵",
    "staff of supplier 蜂之谷蜂业 (honey-valley): its catalogue and parcels",
)
# (name, description, [(sku name, code, supply, min retail, suggested retail, stock)])
SUPPLY = [
    (
        "蜂之谷·椴树雪蜜",
        "长白山椴树花期单花蜜，结晶细腻如雪，产地直发。",
        [
            ("500g 瓶装", "HV-DS-500", "42.00", "60.00", "79.00", 300),
            ("1kg 礼盒", "HV-DS-1000", "78.00", "110.00", "139.00", 120),
        ],
    ),
    (
        "蜂之谷·荆条蜜",
        "太行山荆条蜜，清香微苦回甘，适合泡茶。",
        [("500g 瓶装", "HV-JT-500", "35.00", "52.00", "68.00", 200)],
    ),
]
# store → {sku code: retail price}: each store picks at its own prices, above every floor
PICKS = {
    TEA: {"HV-DS-500": "79.00", "HV-DS-1000": "149.00", "HV-JT-500": "68.00"},
    FRUIT: {"HV-DS-500": "75.00", "HV-DS-1000": "139.00"},
}


def _licence() -> SimpleUploadedFile:
    body = b"%PDF-1.4\n% demo business licence of honey-valley\n%%EOF\n"
    return SimpleUploadedFile("licence.pdf", body, content_type="application/pdf")


def create_supplier(world: DemoWorld) -> None:
    application = supplier_application_submit(
        username=SUPPLIER_OWNER.username,
        password=DEMO_PASSWORD,
        company_name="蜂之谷蜂业",
        slug="honey-valley",
        categories="蜂蜜, 滋补",
        contact_name="赵蜂",
        contact_phone="13900139000",
        contact_email="honey@example.com",
        licence=_licence(),
    )
    supplier = supplier_application_approve(
        application_id=application.pk, reviewer=world.users["admin"]
    )
    world.users[SUPPLIER_OWNER.username] = application.applicant
    for name, description, skus in SUPPLY:
        product = SupplyProduct.objects.create(
            supplier=supplier,
            name=name,
            description=description,
            after_sale_terms="签收 7 天内，破损或变质包退换。",
        )
        for sku_name, code, supply, minimum, suggested, stock in skus:
            SupplySku.objects.create(
                supplier=supplier,
                product=product,
                name=sku_name,
                code=code,
                supply_price=Decimal(supply),
                min_retail_price=Decimal(minimum),
                suggested_retail_price=Decimal(suggested),
                stock=stock,
            )
    for store, prices in PICKS.items():
        by_code = {sku.code: sku for sku in SupplySku.objects.filter(supplier=supplier)}
        for product in SupplyProduct.objects.filter(supplier=supplier).order_by("id"):
            chosen = {
                by_code[code].pk: price
                for code, price in prices.items()
                if by_code[code].product_id == product.pk
            }
            if chosen:
                supply_pick(
                    merchant=world.merchants[store], supply_product_id=product.pk, prices=chosen
                )


def order_supplied_goods(world: DemoWorld) -> None:
    merchant, bob = world.merchants[TEA], world.users["bob"]
    for sku, quantity in (
        (Sku.objects.get(merchant=merchant, supply_sku__code="HV-DS-500"), 2),
        (Sku.objects.get(merchant=merchant, code="TEA-LJ-50"), 1),
    ):
        cart_add_item(merchant=merchant, customer=bob, sku_id=sku.pk, quantity=quantity)
    order = order_place_from_cart(
        merchant=merchant, customer=bob, recipient=RECIPIENTS["bob"], note="蜂蜜配龙井"
    )
    _pay(merchant=merchant, customer=bob, order=order)
    parcel = Shipment.objects.get(order=order, supplier__slug="honey-valley")
    shipment_ship(
        shipment=parcel,
        carrier="中通快递",
        tracking_number=f"ZTO{timezone.now():%m%d}{order.number[-6:]}",
        actor=world.users[SUPPLIER_OWNER.username],
    )
