"""Scarce marketing things under real concurrency: flash pools, coupon batches, one coupon."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from apps.core.errors import DomainError
from apps.marketing.models import Coupon, CouponGrant, FlashPurchase, FlashSale
from apps.marketing.services import coupon_grant
from apps.orders.models import Order, OrderLine
from apps.orders.services import Discounts, Recipient, order_cancel, order_place
from apps.products.models import Sku
from tests.factories import SkuFactory, UserFactory
from tests.marketing import factories as f

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

RECIPIENT = Recipient(name="Li", phone="1", address="x")


def _buy(merchant, buyer, sku, quantity=1):
    return order_place(
        merchant=merchant, customer=buyer, lines=[(sku.pk, quantity)], recipient=RECIPIENT
    )


def test_a_flash_sale_of_100_units_with_1000_buyers_sells_exactly_100(merchant):
    # given 300 units, 100 of them in a flash pool with a limit of 2 per person
    sku = SkuFactory(product__merchant=merchant, price=Decimal("99.00"), stock=300)
    sale = f.flash(merchant, sku, price="9.90", pool=100, limit=2)
    buyers = UserFactory.create_batch(1000)
    outcomes: list[tuple[int, BaseException | None]] = []
    lock = threading.Lock()

    # when 1,000 buyers (20 at a time, on their own connections) each try to buy one unit,
    # and every tenth of them tries three times
    def shift(chunk):
        for index, buyer in chunk:
            for _attempt in range(3 if index % 10 == 0 else 1):
                try:
                    _buy(merchant, buyer, sku)
                    result = None
                except DomainError as error:
                    result = error
                with lock:
                    outcomes.append((buyer.pk, result))

    indexed = list(enumerate(buyers))
    race([lambda chunk=indexed[i::20]: shift(chunk) for i in range(20)])

    # then exactly 100 were sold, nobody holds more than 2, and the SKU's own stock is untouched
    sold = OrderLine.objects.filter(sku=sku).aggregate(units=Sum("quantity"))["units"]
    assert sold == 100
    assert Order.objects.count() == 100
    assert FlashSale.objects.get(pk=sale.pk).remaining == 0
    assert Sku.objects.get(pk=sku.pk).stock == 200
    per_buyer = FlashPurchase.objects.filter(flash_sale=sale).values_list("quantity", flat=True)
    assert max(per_buyer) <= 2 and sum(per_buyer) == 100
    assert {error.code for _buyer, error in outcomes if error is not None} <= {
        "flash_sold_out",
        "flash_limit_reached",
    }
    assert sum(error is None for _buyer, error in outcomes) == 100

    # and orders that expire unpaid put their units back while the sale is open
    for order in Order.objects.order_by("id")[:7]:
        order_cancel(order=order, reason="unpaid, expired")
    assert FlashSale.objects.get(pk=sale.pk).remaining == 7
    assert Sku.objects.get(pk=sku.pk).stock == 200


def test_the_last_coupons_of_a_batch_go_to_exactly_n_people(merchant):
    # given a batch of 10, one per person; 50 consumers, five of whom click twice at once
    batch = f.coupon(merchant, total_quantity=10, per_person_limit=1)
    consumers = UserFactory.create_batch(45)
    calls = [consumers[i % 45] for i in range(50)]

    outcomes = race(
        [
            lambda who=who: coupon_grant(coupon=Coupon.objects.get(pk=batch.pk), customer=who)
            for who in calls
        ]
    )

    assert sum(outcome.error is None for outcome in outcomes) == 10
    assert CouponGrant.objects.filter(coupon=batch).count() == 10
    assert Coupon.objects.get(pk=batch.pk).issued_count == 10
    per_person = CouponGrant.objects.filter(coupon=batch).values_list("customer_id", flat=True)
    assert len(set(per_person)) == 10
    assert {o.error.code for o in outcomes if o.error} <= {
        "coupon_sold_out",
        "coupon_limit_reached",
    }


def test_one_coupon_used_by_two_concurrent_checkouts_goes_to_one_order(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=Decimal("80.00"), stock=10)
    grant = f.granted(merchant, customer)

    outcomes = race(
        [
            lambda: order_place(
                merchant=merchant,
                customer=customer,
                lines=[(sku.pk, 1)],
                recipient=RECIPIENT,
                discounts=Discounts(coupon=grant.pk),
            )
            for _ in range(2)
        ]
    )

    placed = [o.value for o in outcomes if o.error is None]
    refused = [o.error for o in outcomes if o.error is not None]
    assert len(placed) == 1 and len(refused) == 1
    assert isinstance(refused[0], DomainError)
    assert refused[0].code in {"coupon_used", "coupon_unusable"}
    assert CouponGrant.objects.get(pk=grant.pk).order_id == placed[0].pk
    assert Order.objects.count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == 9
    connection.close()
