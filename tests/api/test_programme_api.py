"""The programme API: apply → approve over HTTP, settings validation, tiers with conditions,
and list endpoints whose query count does not grow with rows."""

import pytest

from apps.distributors.models import Distributor, Tier
from apps.distributors.recruitment import application_submit, programme_settings_update
from tests.factories import UserFactory

from .conftest import api_url, client_for


def test_apply_and_approve_over_the_api(merchant, staff_user):
    programme_settings_update(
        merchant=merchant, recruitment_mode="application", application_questions=["Why?"]
    )
    applicant = UserFactory()
    url = api_url("store-distributor-application", store=merchant.slug)
    sent = client_for(applicant).post(url, {"answers": ["Tea"]}, format="json")
    assert sent.status_code == 201, sent.content
    application_id = sent.json()["application"]["id"]
    assert sent.json()["application"]["status"] == "pending"

    approved = client_for(staff_user).post(
        api_url("merchant-distributor-application-approve", pk=application_id)
    )
    assert approved.status_code == 200, approved.content
    mine = client_for(applicant).get(url).json()
    assert (mine["is_distributor"], mine["application"]["status"]) == (True, "approved")
    again = client_for(staff_user).post(
        api_url("merchant-distributor-application-approve", pk=application_id)
    )
    assert again.status_code == 409


def test_threshold_mode_needs_a_threshold(staff_user):
    response = client_for(staff_user).put(
        api_url("merchant-programme-settings"), {"recruitment_mode": "threshold"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "spend_threshold_required"


def test_tier_with_conditions_round_trip(staff_user, merchant):
    body = {
        "name": "Gold",
        "rank": 2,
        "upgrade_combinator": "any",
        "conditions": [
            {
                "purpose": "upgrade",
                "metric": "team_sales_amount",
                "threshold": "1000.00",
                "period_days": 30,
            },
            {"purpose": "keep", "metric": "own_order_count", "threshold": "2", "period_days": 90},
        ],
    }
    created = client_for(staff_user).post(api_url("merchant-tier-list"), body, format="json")
    assert created.status_code == 201, created.content
    assert len(created.json()["conditions"]) == 2
    tier = Tier.objects.get(merchant=merchant)
    assert sorted(tier.conditions.values_list("purpose", flat=True)) == ["keep", "upgrade"]
    clash = client_for(staff_user).post(api_url("merchant-tier-list"), body, format="json")
    assert clash.status_code == 400 and clash.json()["code"] == "tier_rank_taken"


@pytest.mark.parametrize("count", [1, 5])
def test_application_list_queries(merchant, staff_user, django_assert_num_queries, count):
    programme_settings_update(
        merchant=merchant, recruitment_mode="application", application_questions=["Why?"]
    )
    for _ in range(count):
        application_submit(merchant=merchant, user=UserFactory(), answers=["x"])
    client = client_for(staff_user)
    with django_assert_num_queries(3):
        response = client.get(api_url("merchant-distributor-application-list"))
    assert response.json()["count"] == count


@pytest.mark.parametrize("count", [1, 5])
def test_bound_customers_queries(merchant, django_assert_num_queries, count):
    from apps.distributors.services import distributor_join
    from apps.programme.binding import customer_bind

    distributor = distributor_join(merchant=merchant, user=UserFactory())
    for _ in range(count):
        customer_bind(
            merchant=merchant, customer=UserFactory(), invite_code=distributor.invite_code
        )
    client = client_for(distributor.user)
    with django_assert_num_queries(4):
        response = client.get(api_url("store-distributor-customers", store=merchant.slug))
    rows = response.json()["results"]
    assert len(rows) == count and all(row["seconds_left"] is None for row in rows)
    assert Distributor.objects.count() == 1
