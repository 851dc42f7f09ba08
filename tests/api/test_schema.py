"""The OpenAPI document: served, valid, warning-free, and browsable offline."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from .test_isolation import ROUTES

API_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/merchant-applications/",
    "/api/v1/merchant/commission-overrides/",
    "/api/v1/merchant/commission-overrides/{id}/",
    "/api/v1/merchant/commission-plan/",
    "/api/v1/merchant/commission-plan/bonus-tiers/",
    "/api/v1/merchant/commission-plan/bonus-tiers/{id}/",
    "/api/v1/merchant/commission-plan/simulate/",
    "/api/v1/merchant/commissions/",
    "/api/v1/merchant/coupons/",
    "/api/v1/merchant/coupons/{id}/",
    "/api/v1/merchant/distributor-applications/",
    "/api/v1/merchant/distributor-applications/{id}/",
    "/api/v1/merchant/distributor-applications/{id}/approve/",
    "/api/v1/merchant/distributor-applications/{id}/reject/",
    "/api/v1/merchant/distributor-appointments/",
    "/api/v1/merchant/distributors/",
    "/api/v1/merchant/distributors/{id}/",
    "/api/v1/merchant/finance/payable/",
    "/api/v1/merchant/finance/reconciliation/",
    "/api/v1/merchant/finance/statement/",
    "/api/v1/merchant/flash-sales/",
    "/api/v1/merchant/flash-sales/{id}/",
    "/api/v1/merchant/fraud-flags/",
    "/api/v1/merchant/fraud-flags/{id}/dismiss/",
    "/api/v1/merchant/fraud-flags/{id}/suspend/",
    "/api/v1/merchant/group-buys/",
    "/api/v1/merchant/group-buys/{id}/",
    "/api/v1/merchant/groups/",
    "/api/v1/merchant/groups/{id}/",
    "/api/v1/merchant/leaderboard/",
    "/api/v1/merchant/live-rooms/",
    "/api/v1/merchant/live-rooms/{id}/",
    "/api/v1/merchant/live-rooms/{id}/end/",
    "/api/v1/merchant/live-rooms/{id}/figures/",
    "/api/v1/merchant/live-rooms/{id}/mute/",
    "/api/v1/merchant/live-rooms/{id}/pin/",
    "/api/v1/merchant/live-rooms/{id}/prices/",
    "/api/v1/merchant/live-rooms/{id}/products/",
    "/api/v1/merchant/live-rooms/{id}/start/",
    "/api/v1/merchant/live-rooms/{id}/unpin/",
    "/api/v1/merchant/materials/",
    "/api/v1/merchant/materials/{id}/",
    "/api/v1/merchant/materials/{id}/reads/",
    "/api/v1/merchant/orders/",
    "/api/v1/merchant/orders/{id}/",
    "/api/v1/merchant/orders/{id}/ship/",
    "/api/v1/merchant/products/",
    "/api/v1/merchant/products/{id}/",
    "/api/v1/merchant/programme-settings/",
    "/api/v1/merchant/promotions/",
    "/api/v1/merchant/promotions/{id}/",
    "/api/v1/merchant/refunds/",
    "/api/v1/merchant/refunds/{id}/",
    "/api/v1/merchant/refunds/{id}/approve/",
    "/api/v1/merchant/refunds/{id}/reject/",
    "/api/v1/merchant/shipments/",
    "/api/v1/merchant/shipments/{id}/",
    "/api/v1/merchant/shipments/{id}/ship/",
    "/api/v1/merchant/skus/",
    "/api/v1/merchant/skus/{id}/",
    "/api/v1/merchant/supply-catalogue/",
    "/api/v1/merchant/supply-catalogue/{id}/",
    "/api/v1/merchant/supply-catalogue/{id}/pick/",
    "/api/v1/merchant/tier-prices/",
    "/api/v1/merchant/tier-prices/{id}/",
    "/api/v1/merchant/tiers/",
    "/api/v1/merchant/tiers/{id}/",
    "/api/v1/merchant/withdrawal-settings/",
    "/api/v1/merchant/withdrawals/",
    "/api/v1/merchant/withdrawals/{id}/",
    "/api/v1/merchant/withdrawals/{id}/approve/",
    "/api/v1/merchant/withdrawals/{id}/reject/",
    "/api/v1/stores/{store}/binding/",
    "/api/v1/stores/{store}/cart/",
    "/api/v1/stores/{store}/cart/items/",
    "/api/v1/stores/{store}/cart/items/{id}/",
    "/api/v1/stores/{store}/cart/quote/",
    "/api/v1/stores/{store}/coupon-links/",
    "/api/v1/stores/{store}/coupons/",
    "/api/v1/stores/{store}/coupons/{id}/claim/",
    "/api/v1/stores/{store}/distributor/application/",
    "/api/v1/stores/{store}/distributor/commissions/",
    "/api/v1/stores/{store}/distributor/coupon-links/",
    "/api/v1/stores/{store}/distributor/customers/",
    "/api/v1/stores/{store}/distributor/earnings/",
    "/api/v1/stores/{store}/distributor/join/",
    "/api/v1/stores/{store}/distributor/leaderboard/",
    "/api/v1/stores/{store}/distributor/me/",
    "/api/v1/stores/{store}/distributor/prices/",
    "/api/v1/stores/{store}/distributor/prices/{id}/",
    "/api/v1/stores/{store}/distributor/share-links/",
    "/api/v1/stores/{store}/distributor/statement/",
    "/api/v1/stores/{store}/distributor/statement/csv/",
    "/api/v1/stores/{store}/distributor/team-members/",
    "/api/v1/stores/{store}/distributor/team/",
    "/api/v1/stores/{store}/distributor/tier/",
    "/api/v1/stores/{store}/distributor/withdrawals/",
    "/api/v1/stores/{store}/distributor/withdrawals/quote/",
    "/api/v1/stores/{store}/distributor/withdrawals/{id}/",
    "/api/v1/stores/{store}/group-buys/",
    "/api/v1/stores/{store}/group-buys/{id}/",
    "/api/v1/stores/{store}/group-buys/{id}/open/",
    "/api/v1/stores/{store}/groups/{id}/",
    "/api/v1/stores/{store}/groups/{id}/join/",
    "/api/v1/stores/{store}/live-rooms/",
    "/api/v1/stores/{store}/live-rooms/{id}/",
    "/api/v1/stores/{store}/live-rooms/{id}/orders/",
    "/api/v1/stores/{store}/materials/",
    "/api/v1/stores/{store}/materials/{id}/",
    "/api/v1/stores/{store}/materials/{id}/read/",
    "/api/v1/stores/{store}/membership/",
    "/api/v1/stores/{store}/membership/points/",
    "/api/v1/stores/{store}/my-coupons/",
    "/api/v1/stores/{store}/my-coupons/{id}/",
    "/api/v1/stores/{store}/orders/",
    "/api/v1/stores/{store}/orders/{id}/",
    "/api/v1/stores/{store}/orders/{id}/cancel/",
    "/api/v1/stores/{store}/orders/{id}/confirm-receipt/",
    "/api/v1/stores/{store}/orders/{id}/pay/",
    "/api/v1/stores/{store}/products/",
    "/api/v1/stores/{store}/products/{id}/",
    "/api/v1/stores/{store}/refunds/",
    "/api/v1/stores/{store}/refunds/{id}/",
    "/api/v1/stores/{store}/refunds/{id}/cancel/",
    "/api/v1/stores/{store}/shops/{code}/products/",
    "/api/v1/supplier-applications/",
    "/api/v1/supplier/balances/",
    "/api/v1/supplier/products/",
    "/api/v1/supplier/products/{id}/",
    "/api/v1/supplier/shipments/",
    "/api/v1/supplier/shipments/{id}/",
    "/api/v1/supplier/shipments/{id}/ship/",
    "/api/v1/supplier/skus/",
    "/api/v1/supplier/skus/{id}/",
    "/api/v1/supplier/withdrawals/",
    "/api/v1/supplier/withdrawals/{id}/",
]


def test_schema_endpoint_documents_every_operation(client, db):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.0.3"
    assert sorted(schema["paths"]) == API_PATHS
    operations = sum(len(item) - ("parameters" in item) for item in schema["paths"].values())
    assert operations == len(ROUTES)
    money = schema["components"]["schemas"]["StoreOrder"]["properties"]["payable_amount"]
    assert (money["type"], money["format"]) == ("string", "decimal")
    list_response = schema["paths"]["/api/v1/merchant/orders/"]["get"]["responses"]["200"]
    assert list_response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedMerchantOrderList"
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_schema_validates_without_warnings(tmp_path, language):
    GENERATOR_STATS.reset()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--lang", language,
        "--file", str(tmp_path / "schema.yaml"),
    )  # fmt: skip
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3")


def test_swagger_ui_works_offline(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assets = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html)
    assert sorted(assets) == [
        "drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]
    assert all(finders.find(asset) for asset in assets)
    assert 'url: "/api/schema/"' in html
