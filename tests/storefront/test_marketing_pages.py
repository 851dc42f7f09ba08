"""The marketing centre on the storefront: coupon centre, a distributor's coupon link (binding
under the binding rules on the way), my membership, and the price a visitor pays shown before the
cart — never a member's price from the shared page cache."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.distributors.models import CustomerBinding
from apps.marketing.models import CouponGrant
from apps.members.models import MemberLevel
from apps.members.services import member_order_completed
from apps.storefront import views
from apps.storefront.page_cache import _page_key
from tests.factories import ProductFactory, SkuFactory, UserFactory
from tests.marketing import factories as f
from tests.services.flows import paid_order

D = Decimal
DOCUMENT = {"HTTP_SEC_FETCH_DEST": "document"}


def test_the_coupon_centre_lists_claimable_coupons_and_claims_within_the_limit(
    client, merchant, customer, store_url
):
    coupon = f.coupon(merchant, name="¥10 off ¥50", total_quantity=3)
    f.coupon(merchant, name="Link only", claimable=False, distributor_shareable=True)
    signed_out = client.get(store_url("coupons")).content.decode()
    assert "¥10 off ¥50" in signed_out and "Link only" not in signed_out
    assert 'data-test="claim-sign-in"' in signed_out

    client.force_login(customer)
    response = client.post(store_url("coupon-claim", coupon_id=coupon.pk), follow=True)
    page = response.content.decode()
    assert "Coupon claimed" in page and 'data-test="coupon-claimed"' in page
    again = client.post(store_url("coupon-claim", coupon_id=coupon.pk), follow=True)
    assert "You already have as many of this coupon as one person may." in again.content.decode()
    assert CouponGrant.objects.filter(customer=customer).count() == 1


def test_another_stores_coupon_is_absent(client, customer, store_url, other_merchant):
    foreign = f.coupon(other_merchant)
    client.force_login(customer)
    assert client.get(store_url("coupon", coupon_id=foreign.pk)).status_code == 404
    response = client.post(store_url("coupon-claim", coupon_id=foreign.pk), follow=True)
    assert "No such coupon." in response.content.decode()
    assert CouponGrant.objects.count() == 0


def test_a_coupon_link_opened_signed_out_binds_the_newcomer_who_signs_up_and_claims(
    client, merchant, distributor, store_url
):
    coupon = f.coupon(merchant, claimable=False, distributor_shareable=True)
    link = f"{store_url('coupon', coupon_id=coupon.pk)}?ref={distributor.invite_code}"

    landing = client.get(link, **DOCUMENT)
    page = landing.content.decode()
    assert 'data-test="coupon-sign-up"' in page
    assert "Shared with you by" in page
    assert landing.cookies[f"fx_ref_{merchant.slug}"].value == distributor.invite_code

    signed_up = client.post(
        f"/accounts/signup/?next={link}",
        {"username": "newcomer", "password1": "a-long-pass-42!", "password2": "a-long-pass-42!"},
        **DOCUMENT,
    )
    assert signed_up.status_code == 302 and signed_up["Location"] == link
    back = client.get(link, **DOCUMENT)
    assert 'data-test="coupon-claim"' in back.content.decode()
    newcomer = User.objects.get(username="newcomer")
    assert CustomerBinding.objects.get(customer=newcomer).distributor_id == distributor.pk

    claimed = client.post(link, **DOCUMENT)
    assert claimed.status_code == 302
    grant = CouponGrant.objects.get(customer=newcomer)
    assert (grant.source, grant.distributor_id) == ("distributor", distributor.pk)


def test_a_centre_coupon_opened_through_a_link_is_a_plain_claim_recording_no_distributor(
    client, merchant, customer, distributor, store_url
):
    coupon = f.coupon(merchant, claimable=True, distributor_shareable=False)
    hidden = f.coupon(merchant, claimable=False, distributor_shareable=False)
    client.force_login(customer)
    link = f"{store_url('coupon', coupon_id=coupon.pk)}?ref={distributor.invite_code}"
    assert "Shared with you by" not in client.get(link, **DOCUMENT).content.decode()
    client.post(link, **DOCUMENT)
    grant = CouponGrant.objects.get(customer=customer)
    assert (grant.coupon_id, grant.source, grant.distributor_id) == (coupon.pk, "claimed", None)
    assert client.get(store_url("coupon", coupon_id=hidden.pk)).status_code == 404


def test_the_share_page_offers_links_for_the_coupons_distributors_may_share(
    distributor_client, merchant, distributor, store_url
):
    shared = f.coupon(merchant, name="Shared", distributor_shareable=True)
    f.coupon(merchant, name="Centre only")
    page = distributor_client.get(store_url("distributor-share")).content.decode()
    assert f'data-test="share-coupon-{shared.pk}"' in page
    assert f"/coupons/{shared.pk}/?ref={distributor.invite_code}" in page
    assert "Centre only" not in page


def test_my_membership_shows_level_progress_points_and_coupons_by_state(
    client, merchant, customer, store_url
):
    MemberLevel.objects.create(merchant=merchant, name="普通", min_spend=D("0"))
    MemberLevel.objects.create(
        merchant=merchant, name="金卡", min_spend=D("100"), discount_percent=D("10")
    )
    order = paid_order(
        merchant=merchant,
        customer=customer,
        lines=[(SkuFactory(product__merchant=merchant, price=D("40.00")), 1)],
    )
    member_order_completed(
        merchant_id=merchant.pk, customer_id=customer.pk, order_id=order.pk, paid=D("40.00")
    )
    unused = f.granted(merchant, customer, name="Unused one")
    expired = f.granted(merchant, customer, name="Expired one")
    CouponGrant.objects.filter(pk=expired.pk).update(
        valid_until=timezone.now() - timedelta(hours=1)
    )
    client.force_login(customer)

    response = client.get(store_url("membership"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "普通" in page and "¥60.00 more to reach 金卡" in page
    assert 'data-test="points-balance">40<' in page
    unused_section = page.split('data-test="coupons-unused"')[1].split('data-test="coupons-used"')[
        0
    ]
    expired_section = page.split('data-test="coupons-expired"')[1]
    assert f'data-test="grant-{unused.pk}"' in unused_section
    assert f'data-test="grant-{expired.pk}"' in expired_section


def test_membership_needs_signing_in(client, store_url):
    response = client.get(store_url("membership"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- prices before the cart -------------------------------------------------------------------


@pytest.fixture
def tea(merchant):
    product = ProductFactory(merchant=merchant, name="Longjing")
    return SkuFactory(product=product, name="50g", price=D("100.00"), stock=20)


def test_a_member_sees_the_member_price_on_the_product_page_and_catalogue(
    client, merchant, customer, tea, store_url
):
    f.member(merchant, customer, discount="10")
    client.force_login(customer)
    product = client.get(store_url("product", product_id=tea.product_id)).content.decode()
    assert 'data-test="shown-price">¥90.00<' in product
    assert "member price" in product
    catalogue = client.get(store_url("catalogue")).content.decode()
    assert "from ¥90.00" in catalogue and 'data-test="list-price">¥100.00<' in catalogue


def test_a_flash_price_shows_with_its_countdown_and_what_is_left(client, merchant, tea, store_url):
    sale = f.flash(merchant, tea, price="59.90", pool=5, limit=2, name="Noon flash")
    page = client.get(store_url("product", product_id=tea.product_id)).content.decode()
    assert 'data-test="shown-price">¥59.90<' in page
    assert "Noon flash" in page
    assert f'data-deadline="{timezone.localtime(sale.ends_at).isoformat()}"' in page
    assert "5 left at this price · at most 2 each" in page


def test_a_limited_time_price_shows_with_its_end(client, merchant, tea, store_url):
    promotion = f.limited_price(merchant, tea, D("80.00"), name="Spring price")
    page = client.get(store_url("product", product_id=tea.product_id)).content.decode()
    assert 'data-test="shown-price">¥80.00<' in page and "Spring price" in page
    assert f'data-deadline="{timezone.localtime(promotion.ends_at).isoformat()}"' in page


def test_a_members_price_never_reaches_another_visitor_through_the_page_cache(
    merchant, customer, tea, store_url
):
    f.member(merchant, customer, discount="10")
    url = store_url("product", product_id=tea.product_id)
    member = Client()
    member.force_login(customer)
    assert "¥90.00" in member.get(url).content.decode()

    anonymous = Client()
    first = anonymous.get(url).content.decode()
    cached = Client().get(url).content.decode()  # from the cache now
    assert "¥90.00" not in first and "¥90.00" not in cached
    assert "¥100.00" in cached

    # the member, after the signed-out page was cached, still gets their own price
    assert "¥90.00" in member.get(url).content.decode()


def test_a_page_rendered_for_a_signed_in_visitor_is_never_kept(
    rf, merchant, customer, tea, store_url
):
    """Even without a session cookie (signed in by other means), a page priced for a member is
    served to them and not kept for the next visitor."""
    f.member(merchant, customer, discount="10")
    url = store_url("product", product_id=tea.product_id)
    request = rf.get(url)
    request.user = customer
    response = views.product_detail(request, slug=merchant.slug, product_id=tea.product_id)
    assert "¥90.00" in response.content.decode()
    assert cache.get(_page_key(request)) is None
    assert "¥90.00" not in Client().get(url).content.decode()


def test_promotion_edits_show_at_once_on_cached_pages(
    client, merchant, tea, store_url, django_capture_on_commit_callbacks
):
    url = store_url("product", product_id=tea.product_id)
    assert "¥100.00" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        f.flash(merchant, tea, price="49.00", pool=2)
    # the flash sale's creation moved the catalogue version: the cached page is built again
    assert 'data-test="shown-price">¥49.00<' in Client().get(url).content.decode()


@pytest.mark.parametrize("count", [1, 5])
def test_prices_shown_keep_the_product_page_flat(
    client, merchant, customer, django_assert_num_queries, store_url, count
):
    product = ProductFactory(merchant=merchant)
    skus = [
        SkuFactory(product=product, name=f"S{index}", price=D("100.00"), stock=50)
        for index in range(count)
    ]
    for sku in skus:
        f.flash(merchant, sku, price="50.00", pool=2)
        f.limited_price(merchant, sku, D("70.00"))
    f.member(merchant, customer, discount="5")
    client.force_login(customer)
    url = store_url("product", product_id=product.pk)
    client.get(url)
    # session+user, the store, the product, its SKUs, its running group buys, on offer (with the
    # membership), open flash sales, limited-time prices (the flash price wins: no end to read)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert response.content.decode().count('data-test="shown-price">¥50.00<') == count


@pytest.mark.parametrize("count", [1, 5])
def test_prices_shown_keep_the_catalogue_flat(
    client, merchant, django_assert_num_queries, store_url, count
):
    for index in range(count):
        sku = SkuFactory(product__merchant=merchant, name=f"S{index}", price=D("100.00"), stock=9)
        f.limited_price(merchant, sku, D("70.00"))
    url = store_url("catalogue")
    # the store, products, their SKUs, on offer, limited-time prices, their promotions' ends
    with django_assert_num_queries(6):
        response = client.get(url, {"page": 1})  # a query string: rendered live, not cached
    assert response.content.decode().count("from ¥70.00") == count


def test_a_stranger_signed_in_gets_no_members_price(client, merchant, customer, tea, store_url):
    f.member(merchant, customer, discount="10")
    client.force_login(UserFactory())
    page = client.get(store_url("product", product_id=tea.product_id)).content.decode()
    assert "¥90.00" not in page


def test_the_marketing_pages_speak_chinese(client, merchant, customer, tea, store_url):
    f.coupon(merchant, name="新人券")
    f.member(merchant, customer, discount="10")
    f.flash(merchant, tea, price="59.90", pool=5, limit=2)
    client.force_login(customer)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    centre = client.get(store_url("coupons"), **chinese).content.decode()
    assert "领券中心" in centre and "满 ¥50.00 可用" in centre and ">领取<" in centre
    membership = client.get(store_url("membership"), **chinese).content.decode()
    assert "我的会员" in membership and "我的优惠券" in membership and "未使用" in membership
    product = client.get(
        store_url("product", product_id=tea.product_id), **chinese
    ).content.decode()
    assert "此价格剩余 5 件 · 每人限购 2 件" in product and "距结束" in product


def test_a_limited_price_below_the_flash_price_shows_with_the_promotions_end(
    client, merchant, tea, store_url
):
    f.flash(merchant, tea, price="90.00", pool=5, ends_at=timezone.now() + timedelta(hours=5))
    promotion = f.limited_price(merchant, tea, D("80.00"), name="Spring price")
    page = client.get(store_url("product", product_id=tea.product_id)).content.decode()
    assert 'data-test="shown-price">¥80.00<' in page and "Spring price" in page
    assert f'data-deadline="{timezone.localtime(promotion.ends_at).isoformat()}"' in page


@pytest.mark.parametrize("count", [1, 5])
def test_the_coupon_centre_and_membership_pages_stay_flat(
    client, merchant, customer, django_assert_num_queries, store_url, count
):
    for index in range(count):
        f.granted(merchant, customer, name=f"c{index}")
    f.member(merchant, customer, points=100 * count)
    client.force_login(customer)
    client.get(store_url("coupons"))
    # session+user, the store, the coupons on offer, the caller's claim counts
    with django_assert_num_queries(4):
        centre = client.get(store_url("coupons"))
    assert centre.content.decode().count('data-test="coupon-claimed"') == count
    # session+user, the store, member settings, member, levels, period spend, coupons, points
    with django_assert_num_queries(8):
        page = client.get(store_url("membership"))
    assert page.content.decode().count('data-test="grant-') == count
