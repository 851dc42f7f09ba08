from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

supplier_router = SimpleRouter()
supplier_router.register("products", views.SupplierProductViewSet, basename="supplier-product")
supplier_router.register("skus", views.SupplierSkuViewSet, basename="supplier-sku")

supplier_urlpatterns = supplier_router.urls

public_urlpatterns = [
    path(
        "supplier-applications/",
        views.SupplierApplicationViewSet.as_view({"post": "create"}),
        name="supplier-application-create",
    ),
]
