from django.urls import path
from rest_framework.routers import SimpleRouter

from . import agency, views

store_router = SimpleRouter()
store_router.register("distributor", views.DistributorSelfViewSet, basename="store-distributor")
store_router.register(
    "distributor/prices", agency.AgencyPriceViewSet, basename="store-agency-price"
)

merchant_router = SimpleRouter()
merchant_router.register(
    "distributors", views.MerchantDistributorViewSet, basename="merchant-distributor"
)
merchant_router.register(
    "tier-prices", agency.MerchantTierPriceViewSet, basename="merchant-tier-price"
)

store_urlpatterns = [
    path(
        "shops/<str:code>/products/",
        agency.MicroShopProductViewSet.as_view({"get": "list"}),
        name="store-micro-shop-product-list",
    ),
    *store_router.urls,
]
merchant_urlpatterns = merchant_router.urls
