"""The group-buy pages: the offer on the product page, opening a group, the group page to share
and join, and each refusal a 4xx with nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.distributors.models import CustomerBinding
from apps.distributors.services import distributor_join
from apps.groupbuy.models import Group, GroupMember
from apps.groupbuy.services import groups_close_expired
from apps.orders.models import Order, OrderLineAdjustment
from tests.factories import UserFactory

from .conftest import join, open_paid

pytestmark = pytest.mark.django_db
D = Decimal
FORM = {
    "quantity": "1",
    "recipient_name": "Li Lei",
    "recipient_phone": "13800000000",
    "shipping_address": "1 Nanjing Road, Shanghai",
}


def page(merchant, name, **kwargs):
    return reverse(f"storefront:{name}", kwargs={"slug": merchant.slug, **kwargs})


def test_the_product_page_shows_the_group_price_and_the_groups_to_join(
    client, merchant, campaign, group_sku
):
    leader = open_paid(merchant=merchant, campaign=campaign)

    response = client.get(page(merchant, "product", product_id=group_sku.product_id))

    body = response.content.decode()
    assert response.status_code == 200
    assert "¥60.00" in body
    assert f'data-test="join-group-{leader.group_id}"' in body
    deadline = timezone.localtime(Group.objects.get(pk=leader.group_id).deadline)
    assert f'data-deadline="{deadline.isoformat()}"' in body
    assert page(merchant, "group-buy", campaign_id=campaign.pk) in body


def test_opening_a_group_places_the_order_at_the_group_price_and_sends_the_buyer_to_pay(
    client, merchant, campaign, customer
):
    client.force_login(customer)

    response = client.post(page(merchant, "group-buy", campaign_id=campaign.pk), FORM)

    member = GroupMember.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == page(merchant, "order", order_id=member.order_id)
    assert member.order.payable_amount == D("60.00")
    assert OrderLineAdjustment.objects.get(order=member.order).amount == D("39.00")
    order_page = client.get(response["Location"]).content.decode()
    assert "Group price" in order_page


def test_the_group_page_binds_a_visitor_who_came_through_a_distributors_link(
    client, merchant, campaign, customer
):
    distributor = distributor_join(merchant=merchant, user=UserFactory())
    leader = open_paid(merchant=merchant, campaign=campaign)
    client.force_login(customer)

    response = client.get(
        page(merchant, "group", group_id=leader.group_id),
        {"ref": distributor.invite_code},
        HTTP_SEC_FETCH_DEST="document",
    )

    assert response.status_code == 200
    assert CustomerBinding.objects.get(customer=customer).distributor_id == distributor.pk
    assert 'data-test="join-group-form"' in response.content.decode()


def test_a_distributor_shares_the_group_with_their_code(client, merchant, campaign):
    distributor = distributor_join(merchant=merchant, user=UserFactory())
    leader = open_paid(merchant=merchant, campaign=campaign)
    client.force_login(distributor.user)

    response = client.get(page(merchant, "group", group_id=leader.group_id))

    assert response.context["share_url"].endswith(
        f"/groups/{leader.group_id}/?ref={distributor.invite_code}"
    )


def test_joining_from_the_group_page(client, merchant, campaign, customer):
    leader = open_paid(merchant=merchant, campaign=campaign)
    client.force_login(customer)

    response = client.post(page(merchant, "group", group_id=leader.group_id), FORM)

    member = GroupMember.objects.get(customer=customer)
    assert response.status_code == 302
    assert member.group_id == leader.group_id
    assert Group.objects.get(pk=leader.group_id).seats_taken == 2


def test_joining_a_full_group_from_the_page_is_a_409_and_writes_nothing(
    client, merchant, campaign, customer
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    join(merchant=merchant, group=leader.group)
    join(merchant=merchant, group=leader.group)
    orders = Order.objects.count()
    client.force_login(customer)

    response = client.post(page(merchant, "group", group_id=leader.group_id), FORM)

    assert response.status_code == 409
    assert "This group is full." in response.content.decode()
    assert Order.objects.count() == orders
    assert not GroupMember.objects.filter(customer=customer).exists()


def test_joining_a_closed_group_from_the_page_is_a_409(
    client, merchant, campaign, customer, refunds_delivered
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    groups_close_expired(now=timezone.now() + timedelta(hours=25))
    client.force_login(customer)

    response = client.post(page(merchant, "group", group_id=leader.group_id), FORM)

    assert response.status_code == 409
    assert "This group is closed." in response.content.decode()
    assert not GroupMember.objects.filter(customer=customer).exists()


def test_a_bad_form_is_a_400_and_another_stores_group_a_404(
    client, merchant, other_merchant, campaign, customer
):
    leader = open_paid(merchant=merchant, campaign=campaign)
    client.force_login(customer)

    bad = client.post(page(merchant, "group", group_id=leader.group_id), {**FORM, "quantity": "0"})
    foreign = client.get(page(other_merchant, "group", group_id=leader.group_id))
    foreign_campaign = client.get(page(other_merchant, "group-buy", campaign_id=campaign.pk))

    assert bad.status_code == 400
    assert foreign.status_code == 404
    assert foreign_campaign.status_code == 404
    assert not GroupMember.objects.filter(customer=customer).exists()


def test_signed_out_visitors_are_sent_to_sign_in_before_joining(client, merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)

    response = client.post(page(merchant, "group", group_id=leader.group_id), FORM)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert GroupMember.objects.count() == 1


@pytest.mark.parametrize("groups", [1, 4])
def test_the_product_page_query_count_does_not_grow_with_groups(
    client, merchant, campaign, group_sku, groups, django_assert_num_queries
):
    for _ in range(groups):
        open_paid(merchant=merchant, campaign=campaign)
    url = page(merchant, "product", product_id=group_sku.product_id)

    # the store, the product, its SKUs, what is on offer, its running group buys, their groups
    with django_assert_num_queries(6):
        response = client.get(url)
    assert len(response.context["group_buys"][0].joinable) == groups


def test_the_group_page_speaks_chinese(client, merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)

    body = client.get(
        page(merchant, "group", group_id=leader.group_id),
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    ).content.decode()

    assert "拼团价" in body and "还差 2 人成团" in body and "剩余时间" in body


def test_a_seats_order_page_links_to_its_group(client, merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)
    client.force_login(leader.customer)

    body = client.get(page(merchant, "order", order_id=leader.order_id)).content.decode()

    assert 'data-test="group-seat" data-status="open"' in body
    assert page(merchant, "group", group_id=leader.group_id) in body
