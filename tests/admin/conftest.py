"""Two stores with a row of every merchant-owned model each, staff of store A and an operator."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.commissions.models import CommissionOverride
from apps.commissions.services import commission_settle_orders
from apps.credentials.models import ProviderAccount
from apps.distributors.agency import distributor_price_set, tier_price_create
from apps.distributors.guards import fraud_flag_raise
from apps.distributors.models import (
    Distributor,
    ProgrammeSettings,
    Tier,
    TierChange,
    TierCondition,
)
from apps.distributors.recruitment import application_submit, programme_settings_update
from apps.distributors.services import distributor_join
from apps.dropship.models import Shipment, ShipmentLine
from apps.groupbuy.models import Group
from apps.groupbuy.services import groupbuy_create
from apps.live.models import LiveRoom, LiveRoomProduct
from apps.marketing.models import Coupon, Promotion
from apps.marketing.services import coupon_grant, flash_sale_create
from apps.materials.models import Material
from apps.materials.services import material_read_record
from apps.members.models import MemberLevel, MemberSettings, MemberTag
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import Recipient, order_complete, order_mark_paid, order_place, order_ship
from apps.payments.services import payment_start
from apps.products.models import Product, Sku
from apps.programme.binding import customer_bind
from apps.refunds.models import RefundCase, RefundCaseLine
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import withdrawal_request
from tests.factories import (
    MerchantFactory,
    MerchantStaffFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
)
from tests.withdrawals.conftest import fund

RECIPIENT = Recipient(name="Li Lei", phone="13800000000", address="1 Nanjing Road, Shanghai")


@dataclass
class Store:
    merchant: Merchant
    product: Product
    sku: Sku
    root: Distributor
    child: Distributor
    unpaid: Order
    paid: Order
    completed: Order
    withdrawal: Withdrawal


def _key_pair() -> tuple[str, str]:
    from tests.support.wechatpay_fake import generate_key, private_pem, public_pem

    key = generate_key()
    return private_pem(key), public_pem(key)


# One key pair for every store's provider account (generating RSA keys is slow).
DEMO_KEYS = _key_pair()


def build_store(merchant: Merchant) -> Store:
    """One product/SKU, a root distributor and its invitee, a bound customer with three orders:
    unpaid (with a pending payment), paid, and completed and settled (two commission records)."""
    product = ProductFactory(merchant=merchant)
    sku = SkuFactory(product=product)
    # a level-3 override: the store's chain is two deep, so it changes no amount
    CommissionOverride.objects.create(
        merchant=merchant, product=product, mode="percent", level3_value=3
    )
    root = distributor_join(merchant=merchant, user=UserFactory())
    child = distributor_join(merchant=merchant, user=UserFactory(), invite_code=root.invite_code)
    customer = UserFactory()
    customer_bind(merchant=merchant, customer=customer, invite_code=child.invite_code)

    def place() -> Order:
        return order_place(
            merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=RECIPIENT
        )

    unpaid = place()
    payment_start(merchant=merchant, customer=customer, order_id=unpaid.pk)
    paid = place()
    completed = place()
    with transaction.atomic():
        order_mark_paid(order=paid)
        order_mark_paid(order=completed)
    order_ship(
        merchant=merchant, order_id=completed.pk, carrier="SF", tracking_number="SF1", actor=None
    )
    completed.refresh_from_db()
    order_complete(order=completed)
    assert commission_settle_orders(order_id=completed.pk) == 2
    _refund_case(completed, payment_start_for=unpaid)
    _programme_rows(merchant=merchant, child=child)
    ProgrammeSettings.objects.update_or_create(merchant=merchant, defaults={"agency_enabled": True})
    tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="1.00")
    distributor_price_set(distributor=child, sku_id=sku.pk, price=sku.price)
    parcel = Shipment.objects.create(merchant=merchant, order=paid, supplier=None)
    ShipmentLine.objects.create(merchant=merchant, shipment=parcel, order_line=paid.lines.get())
    for row in (unpaid, paid, completed, sku):
        row.refresh_from_db()
    material = Material.objects.create(
        merchant=merchant, title="Selling script", body="Hello.", is_published=True,
        published_at=timezone.now(),
    )  # fmt: skip
    material_read_record(material=material, distributor=child)
    room = LiveRoom.objects.create(
        merchant=merchant, title="Tea live", starts_at=timezone.now(),
        stream_url="https://streams.example.com/tea.m3u8",
    )  # fmt: skip
    LiveRoomProduct.objects.create(merchant=merchant, room=room, product=product)
    WithdrawalSettings.objects.get_or_create(
        merchant=merchant, defaults={"minimum_amount": "10.00"}
    )
    fund(child, Decimal("50.00"))
    ProviderAccount.objects.get_or_create(
        merchant=merchant,
        provider=ProviderAccount.Provider.ALIPAY,
        defaults={
            "app_id": f"2021{merchant.pk:012d}",
            "private_key": DEMO_KEYS[0],
            "provider_public_key": DEMO_KEYS[1],
        },
    )
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=child, amount="30.00", account="alipay:child"
    )
    _marketing_rows(merchant=merchant, customer=customer, sku=sku)
    # One webhook endpoint (switched off, so the rows tests add later report nothing) and one
    # delivery.
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant, url="https://hooks.example.com/fenxiao", is_active=False
    )
    WebhookDelivery.objects.create(
        merchant=merchant, endpoint=endpoint, event_type="order.paid", payload={"id": paid.pk}
    )
    return Store(merchant, product, sku, root, child, unpaid, paid, completed, withdrawal)


def _marketing_rows(*, merchant: Merchant, customer, sku) -> None:  # type: ignore[no-untyped-def]
    """One row of each marketing and member model: settings, a level, a tag, a coupon granted to
    the customer (a member since the completed order), a promotion and a flash sale to come."""
    n = MemberLevel.objects.filter(merchant=merchant).count() + 1
    MemberSettings.objects.update_or_create(merchant=merchant, defaults={"points_valid_days": 30})
    MemberLevel.objects.create(merchant=merchant, name=f"Level {n}", min_spend=Decimal(1000 * n))
    MemberTag.objects.create(merchant=merchant, name=f"Tag {n}")
    coupon = Coupon.objects.create(
        merchant=merchant, name=f"Coupon {n}", amount_off=Decimal("1.00"), valid_days=3,
        total_quantity=5,
    )  # fmt: skip
    coupon_grant(coupon=coupon, customer=customer)
    now = timezone.now()
    Promotion.objects.create(
        merchant=merchant, name=f"Promotion {n}", kind="full_reduction",
        starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
    )  # fmt: skip
    Sku.objects.filter(pk=sku.pk).update(stock=F("stock") + 1)
    flash_sale_create(
        merchant=merchant, sku=sku, name=f"Flash {n}", price=sku.price, pool=1,
        starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
    )  # fmt: skip
    campaign = groupbuy_create(
        merchant=merchant, sku=sku, name=f"Group buy {n}", group_price=sku.price, group_size=2,
        time_limit_hours=24, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
    )  # fmt: skip
    Group.objects.create(merchant=merchant, campaign=campaign, leader=customer, size=2)


def _programme_rows(*, merchant: Merchant, child: Distributor) -> None:
    """One row of each programme model: settings, an application, a tier with a condition, a tier
    change and a fraud flag (the binding above made one binding change)."""
    programme_settings_update(
        merchant=merchant, recruitment_mode="application", application_questions=["Why?"]
    )
    application_submit(merchant=merchant, user=UserFactory(), answers=["Because"])
    rank = Tier.objects.filter(merchant=merchant).count() + 1
    tier = Tier.objects.create(merchant=merchant, name=f"Tier {rank}", rank=rank)
    TierCondition.objects.create(
        merchant=merchant,
        tier=tier,
        purpose="upgrade",
        metric="direct_recruits",
        threshold=1,
        period_days=30,
    )
    TierChange.objects.create(
        merchant=merchant, distributor=child, from_tier=None, to_tier=tier, reason="test"
    )
    fraud_flag_raise(distributor=child, kind="device", detail={"distributors": []})
    programme_settings_update(merchant=merchant, recruitment_mode="everyone")


def _refund_case(order: Order, *, payment_start_for: Order) -> RefundCase:
    """A refund case on the completed order, as a row for the back office (the store's orders are
    marked paid without a provider, so the pending payment stands in for the paid one)."""
    line = order.lines.get()
    case = RefundCase.objects.create(
        merchant=order.merchant,
        order=order,
        payment=payment_start_for.payments.get(),
        customer=order.customer,
        kind=RefundCase.Kind.LINE,
        reason="broken",
        goods_amount=line.paid_amount,
        amount=line.paid_amount,
        provider="sandbox",
        idempotency_key=f"RF{order.number}",
    )
    RefundCaseLine.objects.create(
        merchant=order.merchant, case=case, order_line=line, quantity=1, amount=line.paid_amount
    )
    return case


@pytest.fixture
def store_a(db) -> Store:
    return build_store(MerchantFactory(name="Store A", slug="store-a"))


@pytest.fixture
def store_b(db) -> Store:
    return build_store(MerchantFactory(name="Store B", slug="store-b"))


@pytest.fixture
def staff_a(store_a):
    return MerchantStaffFactory(merchant=store_a.merchant).user


@pytest.fixture
def staff_b(store_b):
    return MerchantStaffFactory(merchant=store_b.merchant).user


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_a):
    client.force_login(staff_a)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
