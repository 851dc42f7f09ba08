from django.urls import path

from . import views

store_urlpatterns = [
    path(
        "distributor/statement/",
        views.DistributorStatementViewSet.as_view({"get": "statement"}),
        name="store-distributor-statement",
    ),
    path(
        "distributor/statement/csv/",
        views.DistributorStatementViewSet.as_view({"get": "statement_csv"}),
        name="store-distributor-statement-csv",
    ),
]
merchant_urlpatterns = [
    path(
        f"finance/{report}/",
        views.MerchantFinanceViewSet.as_view({"get": report}),
        name=f"merchant-finance-{report}",
    )
    for report in ("statement", "payable", "reconciliation")
]
