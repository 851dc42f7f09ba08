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

store_urlpatterns = store_router.urls
merchant_urlpatterns = [
    path(
        "withdrawal-settings/",
        views.WithdrawalSettingsViewSet.as_view({"get": "current", "put": "replace"}),
        name="merchant-withdrawal-settings",
    ),
    *merchant_router.urls,
]
