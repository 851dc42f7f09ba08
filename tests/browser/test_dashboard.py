"""The merchant dashboard in a real Chromium on the demo data, in English and in Chinese: the
figures and the charts' data on the page are the selectors' (read from the page, not pixels).
The screenshots go to docs/ when FENXIAO_DOCS_SCREENSHOTS is set (how docs/dashboard-*.png are
made)."""

import io
import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import expect

from apps.dashboard.selectors import dashboard_data
from apps.merchants.models import Merchant

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LABELS = {
    "en-US": ("Paid amount", "Top 10 products"),
    "zh-CN": ("实付金额", "商品销售额前 10"),
}


@pytest.fixture
def demo(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False
    cache.clear()
    yield Merchant.objects.get(slug="demo-tea")
    cache.clear()


def chart_series(page, chart_id: str) -> list:
    return page.evaluate(
        f"echarts.getInstanceByDom(document.getElementById('{chart_id}')).getOption().series"
        ".map(s => s.data)"
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_dashboard_draws_the_demo_figures(live_server, browser, demo, locale, tmp_path):
    context = browser.new_context(**DESKTOP, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill("tea_admin")
    page.locator("#id_password").fill("fenxiao-demo")
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    page.locator('#dashboard button[data-days="30"]').click()
    expect(page.locator("#dashboard")).to_have_attribute("data-ready", "30")

    expected = dashboard_data(merchant=demo, days=30)
    shown = page.evaluate("window.fenxiaoDashboard")
    paid_label, products_label = LABELS[locale]

    assert shown["kpis"] == expected["kpis"]
    expect(page.locator('[data-kpi="paid_amount"] [data-test="kpi-value"]')).to_have_text(
        expected["kpis"]["paid_amount"]["value"]
    )
    expect(page.locator('[data-kpi="paid_amount"] .fx-kpi-label')).to_have_text(paid_label)
    daily_amounts, daily_orders = chart_series(page, "chart-daily")
    assert daily_amounts == [float(v) for v in expected["daily"]["paid_amount"]]
    assert daily_orders == expected["daily"]["orders"]
    assert chart_series(page, "chart-products")[0] == [
        float(row["amount"]) for row in expected["top_products"]
    ]
    assert [p["value"] for p in chart_series(page, "chart-funnel")[0]] == [
        expected["funnel"][name]
        for name in ("visits", "bound_customers", "orders_placed", "orders_paid")
    ]
    title = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-products')).getOption()"
        ".title[0].text"
    )
    assert title == products_label
    shot = tmp_path / f"dashboard-{locale}.png"
    page.locator("#dashboard").screenshot(path=str(shot))
    docs = os.environ.get("FENXIAO_DOCS_SCREENSHOTS")
    if docs:
        Path(docs, f"dashboard-{'zh' if locale == 'zh-CN' else 'en'}.png").write_bytes(
            shot.read_bytes()
        )
    context.close()
