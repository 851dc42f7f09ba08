"""Staff manage commission overrides and bonus tiers through the API; refusals are clear 4xx and
write nothing; distributors see how each record was calculated."""

from decimal import Decimal

import pytest

from apps.commissions.models import BonusTier, CommissionOverride

from .conftest import api_url, client_for

D = Decimal


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"mode": "percent", "level1_value": "5.00"}, 400, "override_target"),
        ({"mode": "percent", "level1_value": "100.01", "target": "sku"}, 400, "percent_over_100"),
        ({"mode": "fixed", "target": "sku"}, 400, "no_level"),
        ({"mode": "fixed", "level2_value": "-1.00", "target": "sku"}, 400, "negative_value"),
    ],
)
def test_bad_overrides_are_refused(world, body, status, code):
    if body.pop("target", None) == "sku":
        body["sku"] = world.a.sku.pk
    before = CommissionOverride.objects.count()

    response = client_for(world.a.staff).post(
        api_url("merchant-commission-override-list"), body, format="json"
    )

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert CommissionOverride.objects.count() == before


def test_override_create_update_and_duplicate(world):
    client = client_for(world.a.staff)
    url = api_url("merchant-commission-override-list")
    body = {"sku": world.a.sku.pk, "mode": "fixed", "level1_value": "2.50"}

    created = client.post(url, body, format="json")
    duplicate = client.post(url, body, format="json")
    patched = client.patch(
        api_url("merchant-commission-override-detail", pk=created.json()["id"]),
        {"level2_value": "1.00"},
        format="json",
    )

    assert created.status_code == 201
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "override_exists")
    assert patched.status_code == 200
    assert (patched.json()["level1_value"], patched.json()["level2_value"]) == ("2.50", "1.00")
    assert CommissionOverride.objects.filter(merchant=world.a.merchant).count() == 1


def test_bonus_tier_duplicate_threshold_is_a_conflict(world):
    client = client_for(world.a.staff)
    url = api_url("merchant-bonus-tier-list")
    body = {"monthly_sales_threshold": "1000.00", "extra_percent": "2.00"}

    assert client.post(url, body, format="json").status_code == 201
    again = client.post(url, body, format="json")
    zero = client.post(url, {**body, "monthly_sales_threshold": "0.00"}, format="json")

    assert (again.status_code, again.json()["code"]) == (409, "bonus_tier_exists")
    assert zero.status_code == 400
    assert list(zero.json()) == ["monthly_sales_threshold"]
    assert BonusTier.objects.filter(merchant=world.a.merchant).count() == 1


def test_simulation_over_the_cap_is_a_field_error(world):
    response = client_for(world.a.staff).post(
        api_url("merchant-commission-plan-simulate"), {"level1_percent": "40.00"}, format="json"
    )

    assert response.status_code == 400
    assert "max_total_percent" in response.json()


def test_distributor_sees_how_each_record_was_calculated(world):
    child = world.a.distributors[1]

    response = client_for(child.user).get(api_url("store-commission-list", store=world.a.slug))

    (record,) = response.json()["results"]
    assert (record["kind"], record["rule"], record["quantity"]) == ("commission", "default", 2)
    assert record["explanation"]["base"] == "200.00"
    assert record["explanation_text"] == (
        "Merchant default percent: 10.00% of 200.00 paid → 20.00 (rounded down)"
    )
