"""The one pricing pipeline: each step, their order, allocation, and what an order stores."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.errors import Conflict, DomainError, NotFound
from apps.marketing.models import CouponGrant, FlashPurchase, FlashSale
from apps.marketing.pricing import LineInput, Step, allocate, price_lines
from apps.members.models import Member, PointsEntry
from apps.orders.models import Order, OrderLineAdjustment
from apps.orders.services import Discounts, order_cancel, order_place, placement
from apps.products.models import Sku
from tests.factories import SkuFactory, UserFactory

from . import factories as f

D = Decimal


def line(sku, quantity=1, **fields):
    return LineInput(
        sku_id=sku.pk,
        product_id=sku.product_id,
        quantity=quantity,
        unit_price=fields.get("unit_price", sku.price),
        floor=fields.get("floor", sku.min_resale_price),
        agency=fields.get("agency", False),
    )


@pytest.fixture
def tea(merchant):
    return SkuFactory(product__merchant=merchant, price=D("100.00"), stock=50)


@pytest.fixture
def cup(merchant):
    return SkuFactory(product__merchant=merchant, price=D("33.33"), stock=50)


# --- allocation -------------------------------------------------------------------------------


def test_allocate_gives_the_leftover_cents_to_the_largest_remainders():
    assert allocate(D("10.00"), [D("33.33"), D("33.33"), D("33.34")]) == [
        D("3.33"),
        D("3.33"),
        D("3.34"),
    ]
    assert allocate(D("0.01"), [D("1.00"), D("1.00")]) == [D("0.01"), D("0.00")]
    with pytest.raises(ValueError):
        allocate(D("2.01"), [D("1.00"), D("1.00")])


@given(
    weights=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8),
    share=st.fractions(min_value=0, max_value=1),
)
def test_allocation_sums_exactly_and_no_piece_exceeds_its_line(weights, share):
    amounts = [D(w) / 100 for w in weights]
    total = (D(sum(weights) * share.numerator // share.denominator) / 100).quantize(D("0.01"))
    pieces = allocate(total, amounts)
    assert sum(pieces) == total
    assert all(D(0) <= piece <= amount for piece, amount in zip(pieces, amounts, strict=True))


# --- the steps, in order ----------------------------------------------------------------------


def test_member_then_promotion_then_full_reduction_then_coupon_then_points(
    merchant, customer, tea, cup
):
    # given a gold member (5 % off) with points, a limited price on the cup, ¥20 off ¥150,
    # and a ¥10-off-¥50 coupon
    f.member(merchant, customer, discount="5", points=1000)
    f.limited_price(merchant, cup, D("30.00"))
    f.full_reduction(merchant, [("99", "5"), ("150", "20")])
    grant = f.granted(merchant, customer)

    # when two teas and one cup are priced with 500 points (¥5)
    cart = price_lines(
        merchant=merchant, customer=customer, lines=[line(tea, 2), line(cup)], points=500
    )

    tea_line, cup_line = cart.lines
    # member: 100 → 95 per tea (−10.00); cup 33.33 → 31.66 (−1.67), then the promotion 30.00
    assert tea_line.off(Step.MEMBER) == D("10.00")
    assert cup_line.off(Step.MEMBER) == D("1.67")
    assert cup_line.off(Step.PROMOTION) == D("1.66")
    # full reduction over 190 + 30 = 220 ≥ 150: ¥20 split 190 : 30
    assert (tea_line.off(Step.FULL_REDUCTION), cup_line.off(Step.FULL_REDUCTION)) == (
        D("17.27"),
        D("2.73"),
    )
    # the coupon: 10 over 172.73 : 27.27
    assert cart.coupon_grant_id == grant.pk
    assert (tea_line.off(Step.COUPON), cup_line.off(Step.COUPON)) == (D("8.64"), D("1.36"))
    assert cart.points_used == 500
    assert tea_line.off(Step.POINTS) + cup_line.off(Step.POINTS) == D("5.00")
    assert cart.goods_amount == D("233.33")
    assert cart.payable_amount == D("233.33") - D("11.67") - D("1.66") - D("20") - D("10") - D("5")
    assert cart.payable_amount == tea_line.paid_amount + cup_line.paid_amount
    assert [(step, amount) for step, _label, amount in cart.savings()] == [
        (Step.MEMBER, D("11.67")),
        (Step.PROMOTION, D("1.66")),
        (Step.FULL_REDUCTION, D("20.00")),
        (Step.COUPON, D("10.00")),
        (Step.POINTS, D("5.00")),
    ]


def test_prices_never_go_below_the_floor_a_channel_price_included(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=D("50.00"), min_resale_price=D("45.00"))
    f.member(merchant, customer, discount="20")
    f.limited_price(merchant, sku, D("40.00"))

    cart = price_lines(merchant=merchant, customer=customer, lines=[line(sku)])
    assert cart.lines[0].unit_price == D("45.00")

    cart = price_lines(
        merchant=merchant,
        customer=customer,
        lines=[line(sku)],
        channel_prices={sku.pk: D("44.99")},
        channel_label="直播间",
    )
    assert cart.lines[0].unit_price == D("45.00")
    with pytest.raises(DomainError) as refused:
        price_lines(
            merchant=merchant,
            customer=customer,
            lines=[line(sku)],
            channel_prices={sku.pk: D("-1")},
            channel_label="直播间",
        )
    assert refused.value.code == "channel_price_invalid"


def test_a_channel_price_applies_at_the_promotion_step_under_its_label(merchant, customer, tea):
    cart = price_lines(
        merchant=merchant,
        customer=customer,
        lines=[line(tea)],
        channel_prices={tea.pk: D("88.00")},
        channel_label="直播间 #7",
    )
    assert cart.lines[0].adjustments[0].step == Step.PROMOTION
    assert cart.lines[0].adjustments[0].label == "直播间 #7"
    assert (cart.lines[0].list_unit_price, cart.payable_amount) == (D("100.00"), D("88.00"))
    assert cart.channel_label == "直播间 #7"


def test_a_channel_price_above_a_lower_price_is_not_used(merchant, customer, tea):
    f.limited_price(merchant, tea, D("70.00"))
    cart = price_lines(
        merchant=merchant,
        customer=customer,
        lines=[line(tea)],
        channel_prices={tea.pk: D("88.00")},
        channel_label="直播间 #7",
    )
    assert (cart.payable_amount, cart.channel_label) == (D("70.00"), "")


def test_agency_lines_take_no_discount(merchant, customer, tea, cup):
    f.member(merchant, customer, discount="10")
    f.granted(merchant, customer, kind="no_threshold", amount_off=D("5.00"), threshold=D("0"))
    cart = price_lines(
        merchant=merchant, customer=customer, lines=[line(tea, agency=True), line(cup)]
    )
    assert cart.lines[0].paid_amount == D("100.00")
    assert cart.lines[1].paid_amount == D("30.00") - D("5.00")


def test_best_coupon_is_proposed_another_or_none_may_be_chosen(merchant, customer, tea):
    small = f.granted(merchant, customer, name="small", amount_off=D("5"))
    big = f.granted(
        merchant,
        customer,
        name="big",
        kind="percent",
        percent_off=D("20"),
        max_discount=D("15"),
        threshold=D("0"),
    )
    best = price_lines(merchant=merchant, customer=customer, lines=[line(tea)])
    assert best.coupon_grant_id == big.pk
    assert [o.grant_id for o in best.coupon_options] == [big.pk, small.pk]
    assert best.payable_amount == D("85.00")
    chosen = price_lines(merchant=merchant, customer=customer, lines=[line(tea)], coupon=small.pk)
    assert chosen.payable_amount == D("95.00")
    none = price_lines(merchant=merchant, customer=customer, lines=[line(tea)], coupon=None)
    assert none.payable_amount == D("100.00")


def test_unusable_coupons_are_refused_with_a_reason(merchant, other_merchant, customer, tea):
    foreign = f.granted(other_merchant, customer)
    with pytest.raises(NotFound):
        price_lines(merchant=merchant, customer=customer, lines=[line(tea)], coupon=foreign.pk)
    someone_elses = f.granted(merchant, UserFactory())
    with pytest.raises(NotFound):
        price_lines(
            merchant=merchant, customer=customer, lines=[line(tea)], coupon=someone_elses.pk
        )
    high = f.granted(merchant, customer, threshold=D("500"))
    with pytest.raises(DomainError) as refused:
        price_lines(merchant=merchant, customer=customer, lines=[line(tea)], coupon=high.pk)
    assert refused.value.code == "coupon_unusable"
    expired = f.granted(merchant, customer)
    CouponGrant.objects.filter(pk=expired.pk).update(valid_until=expired.valid_from)
    with pytest.raises(DomainError, match="expired"):
        price_lines(merchant=merchant, customer=customer, lines=[line(tea)], coupon=expired.pk)


def test_points_above_balance_or_cap_are_refused(merchant, customer, tea):
    f.member(merchant, customer, points=9000)
    f.member_settings(merchant, points_max_percent=D("10"), points_per_yuan_redeemed=100)
    with pytest.raises(DomainError) as over_cap:
        price_lines(merchant=merchant, customer=customer, lines=[line(tea)], points=1001)
    assert over_cap.value.code == "points_over_cap"
    with pytest.raises(DomainError) as over_balance:
        price_lines(merchant=merchant, customer=customer, lines=[line(tea)], points=9001)
    assert over_balance.value.code == "points_over_balance"
    cart = price_lines(merchant=merchant, customer=customer, lines=[line(tea)], points=1000)
    assert cart.payable_amount == D("90.00")
    assert cart.points_max == 1000


# --- an order keeps the breakdown and gives back what it took ---------------------------------


def test_order_stores_breakdown_and_cancel_returns_coupon_points_and_stock(
    merchant, customer, recipient, tea
):
    f.member(merchant, customer, discount="10", points=2000)
    grant = f.granted(merchant, customer)
    order = order_place(
        merchant=merchant,
        customer=customer,
        lines=[(tea.pk, 2)],
        recipient=recipient,
        discounts=Discounts(points=1000),
        expected_total=D("180.00") - D("10.00") - D("10.00"),
    )
    line_row = order.lines.get()
    assert (order.goods_amount, order.discount_amount, order.payable_amount) == (
        D("200.00"),
        D("40.00"),
        D("160.00"),
    )
    assert (line_row.unit_price, line_row.discount_amount, line_row.paid_amount) == (
        D("100.00"),
        D("40.00"),
        D("160.00"),
    )
    assert list(OrderLineAdjustment.objects.filter(order=order).values_list("step", "amount")) == [
        ("member", D("20.00")),
        ("coupon", D("10.00")),
        ("points", D("10.00")),
    ]
    grant.refresh_from_db()
    assert (grant.status, grant.order_id) == ("used", order.pk)
    assert Member.objects.get(user=customer).points_balance == 1000
    assert Sku.objects.get(pk=tea.pk).stock == 48

    order_cancel(order=order, reason="changed my mind")
    order_cancel_again = Member.objects.get(user=customer).points_balance
    grant.refresh_from_db()
    assert (grant.status, grant.order_id) == ("available", None)
    assert order_cancel_again == 2000
    assert Sku.objects.get(pk=tea.pk).stock == 50
    assert PointsEntry.objects.filter(order=order).count() == 2


def test_a_used_coupon_cannot_be_used_twice(merchant, customer, recipient, tea):
    grant = f.granted(merchant, customer)
    order_place(merchant=merchant, customer=customer, lines=[(tea.pk, 1)], recipient=recipient)
    with pytest.raises(DomainError, match="already been used"):
        order_place(
            merchant=merchant,
            customer=customer,
            lines=[(tea.pk, 1)],
            recipient=recipient,
            discounts=Discounts(coupon=grant.pk),
        )
    assert Sku.objects.get(pk=tea.pk).stock == 49


def test_flash_lines_sell_from_the_pool_within_the_limit(merchant, customer, recipient, tea):
    sale = f.flash(merchant, tea, price="9.90", pool=3, limit=2)
    assert Sku.objects.get(pk=tea.pk).stock == 47
    order = order_place(
        merchant=merchant, customer=customer, lines=[(tea.pk, 2)], recipient=recipient
    )
    assert order.payable_amount == D("19.80")
    assert order.lines.get().flash_sale_id == sale.pk
    assert FlashSale.objects.get(pk=sale.pk).remaining == 1
    assert Sku.objects.get(pk=tea.pk).stock == 47
    with pytest.raises(DomainError) as limited:
        order_place(merchant=merchant, customer=customer, lines=[(tea.pk, 1)], recipient=recipient)
    assert limited.value.code == "flash_limit_reached"
    with pytest.raises(Conflict) as sold_out:
        order_place(
            merchant=merchant, customer=UserFactory(), lines=[(tea.pk, 2)], recipient=recipient
        )
    assert sold_out.value.code == "flash_sold_out"
    assert FlashSale.objects.get(pk=sale.pk).remaining == 1

    # an unpaid order cancelled while the sale is open puts its units back in the pool
    order_cancel(order=order)
    assert FlashSale.objects.get(pk=sale.pk).remaining == 3
    assert Sku.objects.get(pk=tea.pk).stock == 47


def test_a_buyer_of_a_sold_out_flash_sale_is_refused_before_anything_is_locked_or_written(
    merchant, customer, recipient, tea, django_assert_num_queries
):
    # given a flash sale whose pool is empty
    sale = f.flash(merchant, tea, price="9.90", pool=1, limit=2)
    order_place(merchant=merchant, customer=UserFactory(), lines=[(tea.pk, 1)], recipient=recipient)

    # when another buyer tries: the SKU, what is on offer, the open sale — then refused (the
    # placing transaction is a savepoint here: SAVEPOINT, ROLLBACK TO and RELEASE make the rest)
    with django_assert_num_queries(6), pytest.raises(Conflict) as sold_out:
        order_place(merchant=merchant, customer=customer, lines=[(tea.pk, 1)], recipient=recipient)

    # then they are told it is sold out, and nothing of theirs exists
    assert sold_out.value.code == "flash_sold_out"
    assert not FlashPurchase.objects.filter(customer=customer).exists()
    assert not Order.objects.filter(customer=customer).exists()
    assert FlashSale.objects.get(pk=sale.pk).remaining == 0


def test_the_pools_conditional_update_still_refuses_a_buyer_whose_read_was_stale(
    merchant, customer, recipient, tea, monkeypatch
):
    # given a pool of 1 that another buyer empties after this buyer's checkout read it
    sale = f.flash(merchant, tea, price="9.90", pool=1, limit=2)
    read_before = FlashSale.objects.get(pk=sale.pk)
    order_place(merchant=merchant, customer=UserFactory(), lines=[(tea.pk, 1)], recipient=recipient)
    monkeypatch.setattr(placement, "open_flash_sales", lambda **kwargs: {tea.pk: read_before})

    # when the buyer places the order on what they read (1 left)
    with pytest.raises(Conflict) as sold_out:
        order_place(merchant=merchant, customer=customer, lines=[(tea.pk, 1)], recipient=recipient)

    # then the last statement refuses it, and the whole order is rolled back
    assert sold_out.value.code == "flash_sold_out"
    assert not FlashPurchase.objects.filter(customer=customer).exists()
    assert not Order.objects.filter(customer=customer).exists()
    assert FlashSale.objects.get(pk=sale.pk).remaining == 0
    assert Sku.objects.get(pk=tea.pk).stock == 49
