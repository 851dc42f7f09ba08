from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("materials", views.DistributorMaterialViewSet, basename="store-material")

merchant_router = SimpleRouter()
merchant_router.register("materials", views.MerchantMaterialViewSet, basename="merchant-material")

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
