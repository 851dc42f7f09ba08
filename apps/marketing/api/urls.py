from rest_framework.routers import SimpleRouter

from . import views

store_router = SimpleRouter()
store_router.register("coupons", views.StoreCouponViewSet, basename="store-coupon")
store_router.register("my-coupons", views.MyCouponViewSet, basename="store-my-coupon")

merchant_router = SimpleRouter()
merchant_router.register("coupons", views.MerchantCouponViewSet, basename="merchant-coupon")
merchant_router.register(
    "promotions", views.MerchantPromotionViewSet, basename="merchant-promotion"
)
merchant_router.register(
    "flash-sales", views.MerchantFlashSaleViewSet, basename="merchant-flash-sale"
)

store_urlpatterns = store_router.urls
merchant_urlpatterns = merchant_router.urls
