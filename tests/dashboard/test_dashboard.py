"""The merchant dashboard: its figures, their agreement with the finance report, the query count,
the cache, the scoping, and share-link visits at the top of the funnel."""

import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.dashboard.models import ShareVisit
from apps.dashboard.selectors import Window, dashboard_data
from apps.finance.selectors import statement_totals
from apps.merchants.models import Merchant
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import bind, paid_order, place

D = Decimal
DATA = reverse("dashboard:data")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(merchant, chain):
    """Two paid orders through chain[3] and one direct, one unpaid order."""
    tea = SkuFactory(
        product__merchant=merchant, product__name="Longjing", price=D("30.00"), stock=50
    )
    cup = SkuFactory(product__merchant=merchant, product__name="Cup", price=D("12.50"), stock=50)
    bound, direct = UserFactory(), UserFactory()
    bind(merchant=merchant, customer=bound, distributor=chain[3])
    paid_order(merchant=merchant, customer=bound, lines=[(tea, 2)])
    paid_order(merchant=merchant, customer=bound, lines=[(cup, 1)])
    paid_order(merchant=merchant, customer=direct, lines=[(cup, 2)])
    place(merchant=merchant, customer=direct, lines=[(tea, 1)])
    return {"tea": tea, "cup": cup, "distributor": chain[3]}


def test_the_figures_of_a_week(merchant, shop):
    data = dashboard_data(merchant=merchant, days=7)

    kpis = data["kpis"]
    assert kpis["paid_amount"] == {"value": "97.50", "previous": "0.00", "change_percent": None}
    assert kpis["orders"]["value"] == 3
    assert kpis["average_order_value"]["value"] == "32.50"
    assert kpis["new_members"]["value"] == 1
    assert kpis["new_distributors"]["value"] == 4
    assert data["daily"]["paid_amount"][-1] == "97.50"
    assert data["daily"]["orders"][-1] == 3
    assert len(data["daily"]["days"]) == 7
    assert data["top_products"] == [
        {"name": "Longjing", "amount": "60.00", "units": 2},
        {"name": "Cup", "amount": "37.50", "units": 3},
    ]
    assert data["top_distributors"] == [
        {
            "name": shop["distributor"].user.username,
            "code": shop["distributor"].invite_code,
            "amount": "72.50",
            "orders": 2,
        }
    ]
    assert data["channel"] == {"distributors": "72.50", "direct": "25.00"}
    assert data["funnel"] == {
        "visits": 0,
        "bound_customers": 1,
        "orders_placed": 2,
        "orders_paid": 2,
    }


def test_the_change_against_the_previous_period(merchant, shop):
    from apps.orders.models import Order

    a_week_ago = timezone.now() - timezone.timedelta(days=7)
    first = Order.objects.filter(merchant=merchant, paid_at__isnull=False).order_by("id").first()
    Order.objects.filter(pk=first.pk).update(paid_at=a_week_ago)

    orders = dashboard_data(merchant=merchant, days=7)["kpis"]["orders"]

    assert orders == {"value": 2, "previous": 1, "change_percent": "100.0"}


def test_money_equals_the_finance_statement(merchant, shop):
    period = Window(days=30, today=timezone.localdate()).current
    totals = statement_totals(merchant=merchant, period=period)

    kpis = dashboard_data(merchant=merchant, days=30)["kpis"]

    assert kpis["paid_amount"]["value"] == f"{totals['payments_in']:.2f}"
    assert kpis["refunds"]["value"] == f"{totals['refunds_out']:.2f}"
    assert kpis["commission_frozen"]["value"] == f"{totals['commission_earned']:.2f}"


def test_on_the_demo_data_the_dashboard_and_the_finance_report_agree(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    for merchant in Merchant.objects.all():
        period = Window(days=30, today=timezone.localdate()).current
        totals = statement_totals(merchant=merchant, period=period)
        kpis = dashboard_data(merchant=merchant, days=30)["kpis"]

        assert kpis["paid_amount"]["value"] == f"{totals['payments_in']:.2f}"
        assert kpis["refunds"]["value"] == f"{totals['refunds_out']:.2f}"
        assert kpis["commission_frozen"]["value"] == f"{totals['commission_earned']:.2f}"


def queries_for(client) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(DATA, {"days": 30}).status_code == 200
    return len(captured)


def test_the_endpoint_query_count_does_not_grow_with_the_data(client, staff_user, merchant, shop):
    client.force_login(staff_user)
    few = queries_for(client)
    customer = UserFactory()
    for _ in range(5):
        paid_order(merchant=merchant, customer=customer, lines=[(shop["cup"], 1)])

    many = queries_for(client)

    assert few == many


def test_the_figures_are_cached_for_a_minute_per_merchant(client, staff_user, merchant, shop):
    client.force_login(staff_user)
    first = client.get(DATA, {"days": 7}).json()
    paid_order(merchant=merchant, customer=UserFactory(), lines=[(shop["cup"], 1)])

    cached = client.get(DATA, {"days": 7}).json()
    cache.clear()
    fresh = client.get(DATA, {"days": 7}).json()

    assert cached == first
    assert fresh["kpis"]["orders"]["value"] == first["kpis"]["orders"]["value"] + 1


def test_staff_see_only_their_merchant_and_the_operator_chooses(
    client, staff_user, merchant, other_merchant, shop
):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff_user)
    own = client.get(DATA, {"days": 7, "merchant": other_merchant.pk}).json()
    client.force_login(operator)
    theirs = client.get(DATA, {"days": 7, "merchant": other_merchant.pk}).json()
    everyone = client.get(DATA, {"days": 7}).json()

    assert own["merchant"] == merchant.pk
    assert own["kpis"]["orders"]["value"] == 3
    assert theirs["kpis"]["orders"]["value"] == 0
    assert everyone["merchant"] is None
    assert {row["merchant"]: row["orders"] for row in everyone["merchants"]} == {
        merchant.pk: 3,
        other_merchant.pk: 0,
    }
    assert client.get(DATA, {"days": 7, "merchant": 999999}).status_code == 404
    assert client.get(DATA, {"days": 5}).status_code == 404


def test_a_user_who_is_not_staff_gets_no_dashboard(client, customer):
    client.force_login(customer)

    answer = client.get(DATA)

    assert answer.status_code == 302


def test_the_admin_index_opens_on_the_dashboard(client, staff_user):
    client.force_login(staff_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="dashboard"' in page
    assert "vendor/echarts/echarts.min.js" in page


def test_a_share_link_visit_is_counted_once_a_day_per_browser(client, merchant, chain):
    store = reverse("storefront:catalogue", kwargs={"slug": merchant.slug})
    code = chain[3].invite_code

    client.get(store, {"ref": code})
    client.get(store, {"ref": code})
    client.get(store, {"ref": "NOPE!"})

    assert ShareVisit.objects.filter(merchant=merchant, distributor=chain[3]).count() == 1
    assert dashboard_data(merchant=merchant, days=1)["funnel"]["visits"] == 1


def test_the_earnings_page_charts_the_last_30_days_of_commission(client, merchant, chain, sku):
    from apps.commissions.services import commission_settle_orders
    from tests.services.flows import completed_order

    customer = UserFactory()
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = completed_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    commission_settle_orders(order_id=order.pk)
    client.force_login(chain[3].user)

    page = client.get(reverse("storefront:distributor-earnings", kwargs={"slug": merchant.slug}))

    days = page.context["commission_days"]
    assert len(days) == 30
    earned = sum(D(day["amount"]) for day in days)
    from apps.commissions.models import CommissionRecord

    kept = sum(
        r.amount - r.reversed_amount for r in CommissionRecord.objects.filter(beneficiary=chain[3])
    )
    assert earned == kept > 0
    assert days[-1]["bar"] == 60
    assert 'data-test="earnings-chart"' in page.content.decode()
