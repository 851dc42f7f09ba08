"""Nobody earns commission on their own purchase, even after the tree is rearranged."""

from decimal import Decimal

from apps.commissions.models import CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.distributors.services import distributor_join, distributor_move
from apps.orders.models import Order

from ..factories import SkuFactory, UserFactory
from .flows import bind, completed_order, place


def test_the_upline_snapshot_stops_below_the_buyer(merchant):
    # Given C, a distributor bound as a customer to D, and D then moved under C by staff
    buyer_profile = distributor_join(merchant=merchant, user=UserFactory())
    seller = distributor_join(merchant=merchant, user=UserFactory())
    bind(merchant=merchant, customer=buyer_profile.user, distributor=seller)
    distributor_move(distributor=seller, new_parent=buyer_profile)
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"))

    # When C buys
    order = place(merchant=merchant, customer=buyer_profile.user, lines=[(sku, 1)])

    # Then D is level 1 and the chain stops there: C is not its own level 2
    assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
        seller.pk,
        None,
        None,
    )


def test_settlement_never_pays_the_buyer_even_if_the_snapshot_names_them(merchant, chain):
    # Given an order whose snapshot (written before the rule existed) names the buyer at level 2
    root, _second, _third, fourth = chain
    buyer = distributor_join(merchant=merchant, user=UserFactory())
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"))
    bind(merchant=merchant, customer=buyer.user, distributor=fourth)
    order = completed_order(merchant=merchant, customer=buyer.user, lines=[(sku, 1)])
    Order.objects.filter(pk=order.pk).update(level2_distributor=buyer, level3_distributor=root)

    # When it is settled
    created = commission_settle_orders(order_id=order.pk)

    # Then only level 1 is paid: the chain ends below the buyer, as it would at placement
    assert created == 1
    assert list(
        CommissionRecord.objects.filter(order=order).values_list("level", "beneficiary", "amount")
    ) == [(1, fourth.pk, Decimal("10.00"))]
