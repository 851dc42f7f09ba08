from django.urls import path

from . import views

app_name = "suppliers"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/status/", views.apply_status, name="apply-status"),
]
