"""The refund-rate fraud flag (issue 3 item 10): raised at the merchant's threshold and not below,
only above the minimum paid, one open flag per distributor, per merchant; its settings in the API
and the admin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.distributors.models import FraudFlag, ProgrammeSettings
from apps.distributors.recruitment import programme_settings_update
from apps.distributors.services import distributor_join
from apps.refunds.fraud import refund_rate_flags_raise, refund_rate_flags_sweep
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from apps.refunds.tasks import refund_rate_flags_sweep_task
from tests.api.conftest import api_url, client_for
from tests.factories import MerchantStaffFactory, SkuFactory, UserFactory
from tests.services.flows import bind, completed_order

from .conftest import notify

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def refunded(merchant, customer, settled, django_capture_on_commit_callbacks):
    """15.84 of the 63.36 paid through chain[3] refunded (goods kept): exactly 25 %."""
    line = settled.lines.get(unit_price=D("33.33"))
    case = refund_request(
        merchant=merchant,
        customer=customer,
        order_id=settled.pk,
        kind="amount",
        reason="scratched",
        lines=[RefundLineRequest(line.pk, amount="15.84")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    assert notify(case) == "refunded"
    return case


def since():
    return timezone.now() - timedelta(days=30)


def open_flags():
    return list(
        FraudFlag.objects.filter(kind="refund_rate", status="open").values_list(
            "merchant_id", "distributor_id"
        )
    )


def test_a_distributor_at_the_threshold_is_flagged(merchant, chain, refunded):
    flags = refund_rate_flags_raise(
        merchant=merchant, since=since(), threshold=D("25.00"), min_paid=D("50.00")
    )

    assert [flag.distributor_id for flag in flags] == [chain[3].pk]
    assert open_flags() == [(merchant.pk, chain[3].pk)]
    detail = flags[0].detail
    assert (detail["refund_rate_percent"], detail["paid"], detail["refunded"]) == (
        "25.00",
        "63.36",
        "15.84",
    )
    assert detail["threshold_percent"] == "25.00"


def test_a_distributor_below_the_threshold_is_not_flagged(merchant, refunded):
    assert (
        refund_rate_flags_raise(
            merchant=merchant, since=since(), threshold=D("25.01"), min_paid=D("50.00")
        )
        == []
    )
    assert open_flags() == []


def test_too_little_paid_is_no_pattern(merchant, refunded):
    assert (
        refund_rate_flags_raise(
            merchant=merchant, since=since(), threshold=D("25.00"), min_paid=D("63.37")
        )
        == []
    )
    assert open_flags() == []


def test_orders_paid_before_the_period_do_not_count(merchant, refunded):
    later = timezone.now() + timedelta(minutes=1)
    assert (
        refund_rate_flags_raise(
            merchant=merchant, since=later, threshold=D("1.00"), min_paid=D("0.01")
        )
        == []
    )


def test_one_open_flag_per_distributor_however_often_it_runs(merchant, chain, refunded):
    for _ in range(3):
        refund_rate_flags_raise(
            merchant=merchant, since=since(), threshold=D("20.00"), min_paid=D("50.00")
        )

    assert open_flags() == [(merchant.pk, chain[3].pk)]
    assert FraudFlag.objects.get().detail["threshold_percent"] == "20.00"


def test_another_merchant_is_untouched(merchant, other_merchant, chain, refunded):
    # the other merchant: one order through its own distributor, fully kept
    seller = distributor_join(merchant=other_merchant, user=UserFactory())
    buyer = UserFactory()
    bind(merchant=other_merchant, customer=buyer, distributor=seller)
    completed_order(
        merchant=other_merchant,
        customer=buyer,
        lines=[(SkuFactory(product__merchant=other_merchant, price=D("80.00"), stock=5), 1)],
    )

    refund_rate_flags_raise(
        merchant=other_merchant, since=since(), threshold=D("0.01"), min_paid=D("0.01")
    )
    assert open_flags() == []
    refund_rate_flags_raise(
        merchant=merchant, since=since(), threshold=D("25.00"), min_paid=D("50.00")
    )
    assert open_flags() == [(merchant.pk, chain[3].pk)]


def test_the_sweep_uses_each_merchants_own_threshold(merchant, chain, refunded, settings):
    settings.FENXIAO_REFUND_RATE_MIN_PAID = D("50.00")
    programme_settings_update(merchant=merchant, refund_rate_threshold="25.01")
    assert refund_rate_flags_sweep() == 0

    programme_settings_update(merchant=merchant, refund_rate_threshold=None)
    assert refund_rate_flags_sweep() == 0

    programme_settings_update(merchant=merchant, refund_rate_threshold="25.00")
    assert refund_rate_flags_sweep_task() == 1
    assert open_flags() == [(merchant.pk, chain[3].pk)]


def test_the_sweep_applies_the_default_30_percent_without_settings(merchant, refunded, settings):
    settings.FENXIAO_REFUND_RATE_MIN_PAID = D("50.00")

    assert refund_rate_flags_sweep() == 0  # 25 % < 30 %


def test_the_settings_over_the_api(staff_user, merchant):
    url = api_url("merchant-programme-settings")
    shown = client_for(staff_user).get(url).json()
    assert (shown["refund_rate_threshold"], shown["refund_rate_days"]) == ("30.00", 30)

    saved = client_for(staff_user).put(
        url,
        {"recruitment_mode": "everyone", "refund_rate_threshold": "12.50", "refund_rate_days": 7},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    settings = ProgrammeSettings.objects.get(merchant=merchant)  # the row the save wrote
    assert (settings.refund_rate_threshold, settings.refund_rate_days) == (D("12.50"), 7)

    for bad in ({"refund_rate_threshold": "0"}, {"refund_rate_threshold": "100.01"}):
        refused = client_for(staff_user).put(
            url, {"recruitment_mode": "everyone", **bad}, format="json"
        )
        assert refused.status_code == 400, bad
    refused = client_for(staff_user).put(
        url, {"recruitment_mode": "everyone", "refund_rate_days": 0}, format="json"
    )
    assert refused.status_code == 400


def test_the_settings_in_the_admin(client, merchant):
    client.force_login(MerchantStaffFactory(merchant=merchant).user)
    url = reverse("admin:distributors_programmesettings_add")
    form = {
        "recruitment_mode": "everyone",
        "binding_mode": "permanent",
        "binding_days": "30",
        "refund_rate_threshold": "40.00",
        "refund_rate_days": "14",
    }

    refused = client.post(url, {**form, "refund_rate_threshold": "0"})
    assert refused.status_code == 200
    assert "refund_rate_threshold" in refused.context["adminform"].form.errors

    saved = client.post(url, form)
    assert saved.status_code == 302
    settings = ProgrammeSettings.objects.get(merchant=merchant)  # the row the save wrote
    assert (settings.refund_rate_threshold, settings.refund_rate_days) == (D("40.00"), 14)
