from django.urls import include, path

from . import (
    views,
    views_agency,
    views_finance,
    views_groupbuy,
    views_live,
    views_marketing,
    views_materials,
    views_payouts,
    views_programme,
    views_refunds,
    views_sharing,
    views_withdrawals,
)

app_name = "storefront"

store_patterns = [
    path("", views.catalogue, name="catalogue"),
    path("p/<int:product_id>/", views.product_detail, name="product"),
    path("cart/", views.cart, name="cart"),
    path("cart/<int:item_id>/quantity/", views.cart_update, name="cart-update"),
    path("cart/<int:item_id>/remove/", views.cart_remove, name="cart-remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("orders/<int:order_id>/pay/", views.order_pay, name="order-pay"),
    path("orders/<int:order_id>/cancel/", views.order_cancel_view, name="order-cancel"),
    path("orders/<int:order_id>/confirm/", views.order_confirm, name="order-confirm"),
    path("orders/<int:order_id>/refund/", views_refunds.refund_request_view, name="refund-request"),
    path("refunds/", views_refunds.refund_list, name="refunds"),
    path("refunds/<int:case_id>/", views_refunds.refund_detail, name="refund"),
    path("refunds/<int:case_id>/cancel/", views_refunds.refund_cancel_view, name="refund-cancel"),
    path("d/", views.distributor_earnings, name="distributor-earnings"),
    path("d/join/", views.distributor_join_view, name="distributor-join"),
    path("d/share/", views.distributor_share, name="distributor-share"),
    path("d/qr.png", views.distributor_qr, name="distributor-qr"),
    path(
        "d/withdrawals/",
        views_withdrawals.distributor_withdrawals,
        name="distributor-withdrawals",
    ),
    path(
        "d/payout-account/",
        views_payouts.distributor_payout_account,
        name="distributor-payout-account",
    ),
    path("d/apply/", views_programme.distributor_apply, name="distributor-apply"),
    path("d/tier/", views_programme.distributor_tier, name="distributor-tier"),
    path("d/customers/", views_programme.distributor_customers, name="distributor-customers"),
    path("d/poster/store.png", views_sharing.store_poster, name="distributor-store-poster"),
    path(
        "d/poster/<int:product_id>.png",
        views_sharing.product_poster,
        name="distributor-product-poster",
    ),
    path("d/team/", views_sharing.team, name="distributor-team"),
    path("d/leaderboard/", views_sharing.leaderboard, name="distributor-leaderboard"),
    path("d/materials/", views_materials.material_list, name="distributor-materials"),
    path(
        "d/materials/<int:material_id>/",
        views_materials.material_detail,
        name="distributor-material",
    ),
    path(
        "d/materials/<int:material_id>/file/",
        views_materials.material_file,
        name="distributor-material-file",
    ),
    path("d/shop/", views_agency.my_shop, name="distributor-shop"),
    path("m/<str:code>/", views_agency.micro_shop, name="micro-shop"),
    path(
        "m/<str:code>/p/<int:product_id>/",
        views_agency.micro_shop_product,
        name="micro-shop-product",
    ),
    path("d/statement/", views_finance.distributor_statement, name="distributor-statement"),
    path("coupons/", views_marketing.coupon_centre, name="coupons"),
    path("coupons/<int:coupon_id>/", views_marketing.coupon_link, name="coupon"),
    path(
        "coupons/<int:coupon_id>/claim/",
        views_marketing.coupon_centre_claim,
        name="coupon-claim",
    ),
    path("member/", views_marketing.membership, name="membership"),
    path("group-buys/<int:campaign_id>/", views_groupbuy.campaign_detail, name="group-buy"),
    path("groups/<int:group_id>/", views_groupbuy.group_detail, name="group"),
    path("live/", views_live.room_list, name="live-rooms"),
    path("live/<int:room_id>/", views_live.room_detail, name="live-room"),
    path("live/<int:room_id>/buy/", views_live.room_buy, name="live-room-buy"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", include(store_patterns)),
]
