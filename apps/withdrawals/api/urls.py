from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register(
    "distributor/withdrawals", views.DistributorWithdrawalViewSet, basename="store-withdrawal"
)

merchant_router = SimpleRouter()
merchant_router.register(
    "withdrawals", views.MerchantWithdrawalViewSet, basename="merchant-withdrawal"
)

supplier_router = SimpleRouter()
supplier_router.register(
    "withdrawals", views.SupplierWithdrawalViewSet, basename="supplier-withdrawal"
)
supplier_router.register("balances", views.SupplierBalanceViewSet, basename="supplier-balance")

store_urlpatterns = store_router.urls
supplier_urlpatterns = supplier_router.urls
merchant_urlpatterns = [
    path(
        "withdrawal-settings/",
        views.WithdrawalSettingsViewSet.as_view({"get": "current", "put": "replace"}),
        name="merchant-withdrawal-settings",
    ),
    *merchant_router.urls,
]
