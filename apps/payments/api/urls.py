from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
# Only the detail action ``orders/<id>/pay/`` (named ``store-order-pay``): the other order routes
# are in apps.orders.api.
store_router.register("orders", views.StoreOrderPaymentViewSet, basename="store-order")

store_urlpatterns = store_router.urls
