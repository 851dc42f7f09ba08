from django.urls import include, path

from . import views, views_programme, views_withdrawals

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
    path("d/", views.distributor_earnings, name="distributor-earnings"),
    path("d/join/", views.distributor_join_view, name="distributor-join"),
    path("d/share/", views.distributor_share, name="distributor-share"),
    path("d/qr.png", views.distributor_qr, name="distributor-qr"),
    path("d/team/", views.distributor_team_view, name="distributor-team"),
    path(
        "d/withdrawals/",
        views_withdrawals.distributor_withdrawals,
        name="distributor-withdrawals",
    ),
    path("d/apply/", views_programme.distributor_apply, name="distributor-apply"),
    path("d/tier/", views_programme.distributor_tier, name="distributor-tier"),
    path("d/customers/", views_programme.distributor_customers, name="distributor-customers"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", include(store_patterns)),
]
