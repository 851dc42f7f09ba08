from rest_framework.routers import SimpleRouter

from . import views

merchant_router = SimpleRouter()
merchant_router.register("supply-catalogue", views.CatalogueViewSet, basename="merchant-catalogue")
merchant_router.register("shipments", views.MerchantShipmentViewSet, basename="merchant-shipment")

supplier_router = SimpleRouter()
supplier_router.register("shipments", views.SupplierShipmentViewSet, basename="supplier-shipment")

merchant_urlpatterns = merchant_router.urls
supplier_urlpatterns = supplier_router.urls
