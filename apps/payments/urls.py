from django.urls import path, re_path

from . import views

app_name = "payments"

urlpatterns = [
    # Trade numbers are letters and digits (``FX`` + order number + hex); anything else is a 404.
    re_path(
        r"^sandbox/(?P<out_trade_no>[0-9A-Za-z]{1,64})/$", views.sandbox_pay, name="sandbox-pay"
    ),
    path("notify/<slug:provider>/", views.notify, name="notify"),
    path("refund-notify/<slug:provider>/", views.refund_notify, name="refund-notify"),
]
