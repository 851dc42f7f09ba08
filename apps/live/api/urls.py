from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("live-rooms", views.StoreLiveRoomViewSet, basename="store-live-room")

merchant_router = SimpleRouter()
merchant_router.register("live-rooms", views.MerchantLiveRoomViewSet, basename="merchant-live-room")

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
