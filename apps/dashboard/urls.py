from django.contrib import admin
from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", admin.site.admin_view(views.page), name="page"),
    path("data/", admin.site.admin_view(views.data), name="data"),
]
