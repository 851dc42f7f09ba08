"""The programme's distributor pages: apply (and its outcome), tier progress, bound customers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.distributors.models import CustomerBinding, DistributorApplication, Tier, TierCondition
from apps.distributors.recruitment import (
    application_reject,
    programme_settings_update,
)
from apps.programme.binding import customer_bind
from tests.factories import UserFactory


def test_join_page_sends_to_apply_outside_everyone_mode(merchant, signed_in, store_url):
    programme_settings_update(merchant=merchant, recruitment_mode="appointed")
    response = signed_in.get(store_url("distributor-join"))
    assert response.status_code == 302 and response.url == store_url("distributor-apply")
    page = signed_in.get(store_url("distributor-apply"))
    assert 'data-test="mode-appointed"' in page.content.decode()
    assert signed_in.post(store_url("distributor-join"), {}).status_code == 302


def test_apply_page_form_errors_and_outcome(merchant, signed_in, customer, store_url, staff_user):
    programme_settings_update(
        merchant=merchant, recruitment_mode="application", application_questions=["Why?"]
    )
    missing = signed_in.post(store_url("distributor-apply"), {"answer_0": ""})
    assert missing.status_code == 400
    assert 'data-test="error-answer_0"' in missing.content.decode()
    assert DistributorApplication.objects.count() == 0

    sent = signed_in.post(store_url("distributor-apply"), {"answer_0": "Tea lover"})
    assert sent.status_code == 302
    application = DistributorApplication.objects.get(user=customer)
    assert application.answers == [{"question": "Why?", "answer": "Tea lover"}]
    assert application.signup_device  # the device cookie was set and recorded

    application_reject(application=application, reviewer=staff_user, reason="Store is full")
    page = signed_in.get(store_url("distributor-apply")).content.decode()
    assert "Store is full" in page and 'data-test="apply-form"' in page


def test_tier_page_shows_what_is_missing(merchant, distributor, distributor_client, store_url):
    silver = Tier.objects.create(merchant=merchant, name="Silver", rank=1)
    TierCondition.objects.create(
        merchant=merchant,
        tier=silver,
        purpose="upgrade",
        metric="own_sales_amount",
        threshold=Decimal("320.00"),
        period_days=30,
    )
    page = distributor_client.get(store_url("distributor-tier")).content.decode()
    assert "¥320.00 more own sales in 30 days" in page
    assert "Silver" in page


@pytest.mark.parametrize("count", [1, 4])
def test_customers_page_time_left_and_query_count(
    merchant, distributor, distributor_client, store_url, django_assert_num_queries, count
):
    programme_settings_update(merchant=merchant, binding_mode="days", binding_days=3)
    for _ in range(count):
        customer_bind(
            merchant=merchant, customer=UserFactory(), invite_code=distributor.invite_code
        )
    expired = UserFactory(nickname="Gone")
    customer_bind(merchant=merchant, customer=expired, invite_code=distributor.invite_code)
    CustomerBinding.objects.filter(customer=expired).update(expires_at=timezone.now())
    distributor_client.get(store_url("distributor-customers"))  # warm the session

    with django_assert_num_queries(4):
        response = distributor_client.get(store_url("distributor-customers"))

    page = response.content.decode()
    assert page.count('data-test="customer"') == count
    assert page.count("2\xa0days, 23\xa0hours left") == count
    assert "Gone" not in page
    assert timezone.now() + timedelta(days=3) > CustomerBinding.objects.first().expires_at
