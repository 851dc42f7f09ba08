"""Commission rules in the back office: overrides, bonus tiers on the plan, the simulate button,
and records that show how they were calculated."""

from decimal import Decimal

from django.urls import reverse

from apps.commissions.models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord

D = Decimal


def plan_form_data(plan, **changes):
    data = {
        "merchant": str(plan.merchant_id),
        "level1_percent": str(plan.level1_percent),
        "level2_percent": str(plan.level2_percent),
        "level3_percent": str(plan.level3_percent),
        "max_total_percent": str(plan.max_total_percent),
        "freeze_days": str(plan.freeze_days),
        "is_enabled": "on",
        "bonus_tiers-TOTAL_FORMS": "0",
        "bonus_tiers-INITIAL_FORMS": "0",
        "bonus_tiers-MIN_NUM_FORMS": "0",
        "bonus_tiers-MAX_NUM_FORMS": "1000",
    }
    return data | changes


def test_staff_add_a_sku_override(store_a, staff_client):
    response = staff_client.post(
        reverse("admin:commissions_commissionoverride_add"),
        {"sku": str(store_a.sku.pk), "mode": "fixed", "level1_value": "2.50"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    override = CommissionOverride.objects.get(sku=store_a.sku)
    assert (override.merchant_id, override.mode, override.level1_value, override.level2_value) == (
        store_a.merchant.pk,
        "fixed",
        D("2.50"),
        None,
    )


def test_override_needs_exactly_one_target_and_percents_up_to_100(store_a, staff_client):
    url = reverse("admin:commissions_commissionoverride_add")
    before = CommissionOverride.objects.count()

    both = staff_client.post(
        url,
        {
            "product": str(store_a.product.pk),
            "sku": str(store_a.sku.pk),
            "mode": "percent",
            "level1_value": "5",
        },
    )
    over = staff_client.post(
        url, {"sku": str(store_a.sku.pk), "mode": "percent", "level1_value": "120"}
    )

    assert both.status_code == over.status_code == 200
    assert "Choose either a product or a SKU, not both." in (
        both.context["adminform"].form.non_field_errors()
    )
    assert over.context["adminform"].form.errors == {"level1_value": ["A percent is at most 100."]}
    assert CommissionOverride.objects.count() == before


def test_another_merchants_sku_is_refused(store_a, store_b, staff_client):
    before = CommissionOverride.objects.count()

    response = staff_client.post(
        reverse("admin:commissions_commissionoverride_add"),
        {"sku": str(store_b.sku.pk), "mode": "fixed", "level1_value": "1.00"},
    )

    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors
    assert CommissionOverride.objects.count() == before


def test_a_second_override_of_the_same_product_is_a_form_error(store_a, staff_client):
    response = staff_client.post(
        reverse("admin:commissions_commissionoverride_add"),
        {"product": str(store_a.product.pk), "mode": "percent", "level1_value": "5"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This product already has an override."
    ]
    assert CommissionOverride.objects.filter(product=store_a.product).count() == 1


def test_bonus_tiers_are_added_inline_on_the_plan(store_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)
    data = plan_form_data(
        plan,
        **{
            "bonus_tiers-TOTAL_FORMS": "1",
            "bonus_tiers-0-monthly_sales_threshold": "5000.00",
            "bonus_tiers-0-extra_percent": "2.00",
        },
    )

    response = staff_client.post(
        reverse("admin:commissions_commissionplan_change", args=[plan.pk]), data
    )

    assert response.status_code == 302
    assert list(
        BonusTier.objects.values_list(
            "merchant_id", "plan_id", "monthly_sales_threshold", "extra_percent"
        )
    ) == [(store_a.merchant.pk, plan.pk, D("5000.00"), D("2.00"))]


def test_simulate_shows_the_comparison_and_saves_nothing(store_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)
    url = reverse("admin:commissions_commissionplan_change", args=[plan.pk])
    assert "_simulate" in staff_client.get(url).content.decode()

    response = staff_client.post(
        url,
        plan_form_data(plan, level1_percent="20.00", _simulate="Simulate", simulate_days="30"),
    )

    assert response.status_code == 200
    simulation = response.context["simulation"]
    # the completed order: 1 × 100.00 through child (level 1, 10 %) and root (level 2, 5 %)
    assert simulation.orders == 1
    assert [(row.actual, row.proposed) for row in simulation.levels] == [
        (D("10.00"), D("20.00")),
        (D("5.00"), D("5.00")),
        (D("0.00"), D("0.00")),
    ]
    assert response.context["adminform"].form["level1_percent"].value() == "20.00"
    assert 'data-test="simulation-total"' in response.content.decode()
    plan.refresh_from_db()
    assert plan.level1_percent == D("10.00")


def test_simulating_a_plan_over_its_cap_shows_the_form_error(store_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)

    response = staff_client.post(
        reverse("admin:commissions_commissionplan_change", args=[plan.pk]),
        plan_form_data(plan, level1_percent="29.00", _simulate="Simulate"),
    )

    assert response.status_code == 200
    assert "simulation" not in response.context
    assert response.context["adminform"].form.errors
    assert CommissionPlan.objects.get(pk=plan.pk).level1_percent == D("10.00")


def test_simulate_on_another_merchants_plan_is_absent(store_a, store_b, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_b.merchant)

    response = staff_client.post(
        reverse("admin:commissions_commissionplan_change", args=[plan.pk]),
        plan_form_data(plan, level1_percent="20.00", _simulate="Simulate"),
    )

    assert response.status_code == 404


def test_a_record_shows_how_it_was_calculated(store_a, staff_client):
    record = CommissionRecord.objects.get(order=store_a.completed, level=1)

    response = staff_client.get(
        reverse("admin:commissions_commissionrecord_change", args=[record.pk])
    )

    assert response.status_code == 200
    assert (
        "Merchant default percent: 10.00% of 100.00 paid → 10.00 (rounded down)"
        in response.content.decode()
    )
