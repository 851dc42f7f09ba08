from django.urls import path

from . import views

public_urlpatterns = [
    # The accounts app's token view, plus the two-factor code where this app requires one.
    path("auth/token/", views.TwoFactorTokenView.as_view(), name="auth-token"),
    path(
        "merchant-applications/",
        views.MerchantApplicationViewSet.as_view({"post": "create"}),
        name="merchant-application-create",
    ),
]
