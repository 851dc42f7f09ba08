from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("cart/items", views.CartItemViewSet, basename="store-cart-item")
store_router.register("orders", views.StoreOrderViewSet, basename="store-order")

merchant_router = SimpleRouter()
merchant_router.register("orders", views.MerchantOrderViewSet, basename="merchant-order")

store_urlpatterns = [
    path("cart/", views.CartViewSet.as_view({"get": "current"}), name="store-cart"),
    path("cart/quote/", views.CartViewSet.as_view({"post": "quote"}), name="store-cart-quote"),
    *store_router.urls,
]
merchant_urlpatterns = merchant_router.urls
