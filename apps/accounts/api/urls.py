from django.urls import path

from . import views

public_urlpatterns = [path("auth/token/", views.TokenView.as_view(), name="auth-token")]
