"""Fixtures for the REST API tests: two merchants with the same kinds of rows, so that every
endpoint can be checked against the other merchant's ids."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.commissions.models import BonusTier, CommissionOverride, CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from apps.ledger.models import Wallet
from apps.merchants.models import Merchant
from apps.orders.models import CartItem, Order
from apps.orders.services import cart_add_item, order_confirm_receipt, order_ship
from apps.payments.models import Payment
from apps.products.models import Product, Sku
from apps.programme.binding import customer_bind
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_request
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import withdrawal_request
from tests.factories import MerchantFactory, MerchantStaffFactory, SkuFactory, UserFactory
from tests.services.flows import paid_order, place
from tests.withdrawals.conftest import fund


def api_url(name: str, **kwargs: Any) -> str:
    return reverse(f"api:{name}", kwargs=kwargs)


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class Store:
    """One merchant with one of everything, seen from its staff, customer and distributors."""

    merchant: Merchant
    staff: User
    customer: User
    product: Product
    sku: Sku
    distributors: list[Distributor]
    pending_order: Order  # the customer's, unpaid
    paid_order: Order  # the customer's, paid
    completed_order: Order  # the customer's, through distributors[1] → commission records
    cart_item: CartItem  # in the customer's cart
    records: list[CommissionRecord] = field(default_factory=list)
    withdrawal: Withdrawal | None = None  # distributors[1]'s, requested (¥30 of ¥50 available)
    refund: RefundCase | None = None  # the customer's, requested, on paid_order

    @property
    def slug(self) -> str:
        return self.merchant.slug


def build_store(*, customer: User | None = None) -> Store:
    merchant = MerchantFactory()
    staff = MerchantStaffFactory(merchant=merchant).user
    customer = customer or UserFactory()
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"), stock=50)
    root = distributor_join(merchant=merchant, user=UserFactory(nickname="Root"))
    child = distributor_join(
        merchant=merchant, user=UserFactory(nickname="Child"), invite_code=root.invite_code
    )
    buyer = UserFactory()
    customer_bind(merchant=merchant, customer=buyer, invite_code=child.invite_code)
    completed = paid_order(merchant=merchant, customer=buyer, lines=[(sku, 2)])
    order_ship(
        merchant=merchant, order_id=completed.pk, carrier="SF", tracking_number="SF1", actor=staff
    )
    order_confirm_receipt(merchant=merchant, customer=buyer, order_id=completed.pk)
    assert commission_settle_orders(order_id=completed.pk) == 2
    item = cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    fund(child, Decimal("50.00"))
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=child, amount=Decimal("30.00"), account="alipay:child"
    )
    store = Store(
        merchant=merchant,
        staff=staff,
        customer=customer,
        product=sku.product,
        sku=sku,
        distributors=[root, child],
        pending_order=place(merchant=merchant, customer=customer, lines=[(sku, 1)]),
        paid_order=paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)]),
        completed_order=completed,
        cart_item=item,
        records=list(CommissionRecord.objects.filter(order=completed).order_by("level")),
        withdrawal=withdrawal,
    )
    store.refund = refund_request(
        merchant=merchant,
        customer=customer,
        order_id=store.paid_order.pk,
        kind=RefundCase.Kind.ORDER,
        reason="arrived broken",
    )
    return store


@dataclass
class World:
    a: Store
    b: Store
    stranger: User  # a customer of store A who owns nothing there

    def snapshot(self) -> dict[str, Any]:
        """Everything a request could write, to prove that a refused request wrote nothing."""
        return {
            "products": list(Product.objects.order_by("id").values()),
            "skus": list(Sku.objects.order_by("id").values()),
            "cart_items": list(CartItem.objects.order_by("id").values()),
            "orders": list(Order.objects.order_by("id").values()),
            "payments": list(Payment.objects.order_by("id").values()),
            "distributors": list(Distributor.objects.order_by("id").values()),
            "withdrawals": list(Withdrawal.objects.order_by("id").values()),
            "withdrawal_settings": list(WithdrawalSettings.objects.order_by("id").values()),
            "wallets": list(Wallet.objects.order_by("id").values()),
            "refunds": list(RefundCase.objects.order_by("id").values()),
            "commission_overrides": list(CommissionOverride.objects.order_by("id").values()),
            "bonus_tiers": list(BonusTier.objects.order_by("id").values()),
            "plans": list(
                Merchant.objects.order_by("id").values(
                    "commission_plan__level1_percent", "commission_plan__freeze_days"
                )
            ),
        }


@pytest.fixture
def world(db) -> World:
    customer = UserFactory()  # a customer of both stores: the same person, two tenants
    return World(
        a=build_store(customer=customer), b=build_store(customer=customer), stranger=UserFactory()
    )
