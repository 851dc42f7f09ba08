from django.urls import path

from . import views

app_name = "merchants"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/status/", views.apply_status, name="apply-status"),
    path("2fa/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("2fa/", views.two_factor_verify, name="two-factor-verify"),
]
