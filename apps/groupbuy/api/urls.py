from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("group-buys", views.StoreGroupBuyViewSet, basename="store-group-buy")
store_router.register("groups", views.StoreGroupViewSet, basename="store-group")

merchant_router = SimpleRouter()
merchant_router.register("group-buys", views.MerchantGroupBuyViewSet, basename="merchant-group-buy")
merchant_router.register("groups", views.MerchantGroupViewSet, basename="merchant-group")

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
