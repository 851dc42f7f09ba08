"""The caller's membership of a store in the API: level, spend toward the next level, points."""

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.tenancy.api import StoreViewSet

from .. import selectors
from ..models import PointsEntry
from .serializers import MemberProfileSerializer, PointsEntrySerializer


@extend_schema(tags=["storefront"])
class MembershipViewSet(StoreViewSet):
    """``GET membership/``: the caller's level, discount, progress and points balance."""

    queryset = PointsEntry.objects.none()
    serializer_class = MemberProfileSerializer

    @extend_schema(operation_id="v1_stores_membership_retrieve", responses=MemberProfileSerializer)
    def current(self, request: Request, store: str) -> Response:
        profile = selectors.member_profile(
            merchant_id=self.merchant.pk, user_id=cast(User, request.user).pk
        )
        return Response(MemberProfileSerializer(profile).data)


@extend_schema(tags=["storefront"])
class PointsHistoryViewSet(mixins.ListModelMixin, StoreViewSet):
    """The caller's points movements in this store, newest first."""

    queryset = PointsEntry.objects.all()
    serializer_class = PointsEntrySerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.points_history(
            merchant_id=self.merchant.pk, user_id=cast(User, self.request.user).pk
        )
