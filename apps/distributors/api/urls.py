from django.urls import path
from rest_framework.routers import SimpleRouter

from . import agency, programme, views

store_router = SimpleRouter()
store_router.register("distributor", views.DistributorSelfViewSet, basename="store-distributor")
store_router.register(
    "distributor/prices", agency.AgencyPriceViewSet, basename="store-agency-price"
)

programme_store_router = SimpleRouter()
programme_store_router.register(
    "distributor", programme.ProgrammeSelfViewSet, basename="store-distributor"
)

merchant_router = SimpleRouter()
merchant_router.register(
    "distributors", views.MerchantDistributorViewSet, basename="merchant-distributor"
)

merchant_router.register(
    "distributor-applications",
    programme.MerchantApplicationViewSet,
    basename="merchant-distributor-application",
)
merchant_router.register(
    "distributor-appointments",
    programme.MerchantAppointmentViewSet,
    basename="merchant-distributor-appointment",
)
merchant_router.register("tiers", programme.MerchantTierViewSet, basename="merchant-tier")
merchant_router.register(
    "tier-prices", agency.MerchantTierPriceViewSet, basename="merchant-tier-price"
)
merchant_router.register(
    "fraud-flags", programme.MerchantFraudFlagViewSet, basename="merchant-fraud-flag"
)

store_urlpatterns = [
    path(
        "shops/<str:code>/products/",
        agency.MicroShopProductViewSet.as_view({"get": "list"}),
        name="store-micro-shop-product-list",
    ),
    *store_router.urls,
    *programme_store_router.urls,
]
merchant_urlpatterns = [
    path(
        "programme-settings/",
        programme.ProgrammeSettingsViewSet.as_view({"get": "current", "put": "replace"}),
        name="merchant-programme-settings",
    ),
    *merchant_router.urls,
]
