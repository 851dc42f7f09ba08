from django.urls import path

from . import views

public_urlpatterns = [
    path(
        "merchant-applications/",
        views.MerchantApplicationViewSet.as_view({"post": "create"}),
        name="merchant-application-create",
    ),
]
