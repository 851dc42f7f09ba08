from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("sandbox/<str:out_trade_no>/", views.sandbox_pay, name="sandbox-pay"),
    path("notify/<slug:provider>/", views.notify, name="notify"),
]
