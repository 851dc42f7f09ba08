from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("products", views.StoreProductViewSet, basename="store-product")

merchant_router = SimpleRouter()
merchant_router.register("products", views.MerchantProductViewSet, basename="merchant-product")
merchant_router.register("skus", views.MerchantSkuViewSet, basename="merchant-sku")

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
