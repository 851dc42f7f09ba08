from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("binding", views.CustomerBindingViewSet, basename="store-binding")
store_router.register("coupon-links", views.CouponLinkViewSet, basename="store-coupon-link")
store_router.register("distributor", views.DistributorFiguresViewSet, basename="store-distributor")

merchant_router = SimpleRouter()
merchant_router.register(
    "leaderboard", views.MerchantLeaderboardViewSet, basename="merchant-leaderboard"
)

store_urlpatterns = [*store_router.urls]
merchant_urlpatterns = [*merchant_router.urls]
