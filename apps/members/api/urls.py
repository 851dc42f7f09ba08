from django.urls import path

from . import views

store_urlpatterns = [
    path(
        "membership/", views.MembershipViewSet.as_view({"get": "current"}), name="store-membership"
    ),
    path(
        "membership/points/",
        views.PointsHistoryViewSet.as_view({"get": "list"}),
        name="store-membership-points",
    ),
]
