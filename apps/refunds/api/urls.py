from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("refunds", views.StoreRefundViewSet, basename="store-refund")

merchant_router = SimpleRouter()
merchant_router.register("refunds", views.MerchantRefundViewSet, basename="merchant-refund")

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
