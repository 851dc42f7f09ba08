"""Group buys in the back office: created through the service, refused settings as form errors,
another store's SKU not offered, groups read-only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.groupbuy.models import GroupBuy
from tests.factories import MerchantStaffFactory, SkuFactory

from .conftest import open_paid

pytestmark = pytest.mark.django_db
ADD = reverse("admin:groupbuy_groupbuy_add")


def form_data(sku, **changes):
    data = {
        "name": "Pair",
        "sku": sku.pk,
        "group_price": "50.00",
        "group_size": "2",
        "time_limit_hours": "24",
        "starts_at_0": "2030-01-01",
        "starts_at_1": "10:00:00",
        "ends_at_0": "2030-01-08",
        "ends_at_1": "10:00:00",
        "per_person_limit": "1",
        "is_active": "on",
    }
    data.update(changes)
    return data


@pytest.fixture
def staff_client(client, merchant):
    client.force_login(MerchantStaffFactory(merchant=merchant).user)
    return client


def test_staff_create_a_group_buy_for_their_sku(staff_client, merchant, group_sku):
    response = staff_client.post(ADD, form_data(group_sku))

    assert response.status_code == 302
    made = GroupBuy.objects.get()
    assert (made.merchant_id, made.sku_id, made.group_price) == (
        merchant.pk,
        group_sku.pk,
        Decimal("50.00"),
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"group_size": "1"},
        {"group_price": "0"},
        {"ends_at_0": "2029-12-31"},
        {"group_price": "10.00", "floor": True},
    ],
)
def test_refused_settings_are_form_errors_and_save_nothing(
    staff_client, merchant, group_sku, changes
):
    if changes.pop("floor", False):
        group_sku.min_resale_price = Decimal("40.00")
        group_sku.save(update_fields=["min_resale_price"])

    response = staff_client.post(ADD, form_data(group_sku, **changes))

    assert response.status_code == 200
    assert not GroupBuy.objects.exists()


def test_another_stores_sku_is_not_offered(staff_client, other_merchant):
    foreign = SkuFactory(product__merchant=other_merchant)

    response = staff_client.post(ADD, form_data(foreign))

    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors
    assert not GroupBuy.objects.exists()


def test_groups_are_listed_and_read_only(staff_client, merchant, campaign):
    leader = open_paid(merchant=merchant, campaign=campaign)

    listing = staff_client.get(reverse("admin:groupbuy_group_changelist"))
    page = staff_client.get(reverse("admin:groupbuy_group_change", args=[leader.group_id]))

    assert listing.status_code == 200
    assert "1 / 1 / 3" in listing.content.decode()
    assert page.status_code == 200
    assert staff_client.get(reverse("admin:groupbuy_group_add")).status_code == 403
