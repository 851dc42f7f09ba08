from django.urls import path

from . import views

app_name = "refunds"

urlpatterns = [
    # Under /pay/, beside the payment notifications (apps.payments.urls).
    path("refund-notify/<slug:provider>/", views.refund_notify, name="refund-notify"),
]
