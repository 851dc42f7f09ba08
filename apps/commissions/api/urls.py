from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("distributor", views.DistributorEarningsViewSet, basename="store-distributor")
store_router.register(
    "distributor/commissions", views.DistributorCommissionViewSet, basename="store-commission"
)

merchant_router = SimpleRouter()
merchant_router.register(
    "commissions", views.MerchantCommissionViewSet, basename="merchant-commission"
)
merchant_router.register(
    "commission-overrides", views.CommissionOverrideViewSet, basename="merchant-commission-override"
)
merchant_router.register(
    "commission-plan/bonus-tiers", views.BonusTierViewSet, basename="merchant-bonus-tier"
)

store_urlpatterns = store_router.urls
merchant_urlpatterns = [
    path(
        "commission-plan/",
        views.CommissionPlanViewSet.as_view({"get": "current", "put": "replace"}),
        name="merchant-commission-plan",
    ),
    path(
        "commission-plan/simulate/",
        views.CommissionSimulationViewSet.as_view({"post": "simulate"}),
        name="merchant-commission-plan-simulate",
    ),
    *merchant_router.urls,
]
