from typing import cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.distributors import links
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.models import Distributor
from apps.distributors.recruitment import distributor_signup
from apps.distributors.selectors import distributor_upline
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    DistributorJoinSerializer,
    DistributorProfileSerializer,
    MerchantDistributorSerializer,
    ShareLinksSerializer,
)


@extend_schema(tags=["distributor"])
class DistributorSelfViewSet(StoreViewSet):
    """The caller's own distributor profile in this store (分销员中心). The team, tier and
    leaderboards beside it are the programme app's (``apps/programme/api``)."""

    queryset = Distributor.objects.all()
    serializer_class = DistributorProfileSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(user=self.request.user).select_related("user")

    def own_profile(self) -> Distributor:
        distributor = self.get_queryset().first()
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    @extend_schema(
        request=DistributorJoinSerializer,
        responses={200: DistributorProfileSerializer, 201: DistributorProfileSerializer},
    )
    @action(detail=False, methods=["post"])
    def join(self, request: Request, store: str) -> Response:
        """Become a distributor of this store (free; joining again changes nothing: 200)."""
        serializer = DistributorJoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _distributor, created = distributor_signup(
            merchant=self.merchant,
            user=cast(User, request.user),
            invite_code=serializer.validated_data["invite_code"] or None,
            ip=request_ip(request),
            device=request_device_id(request),
        )
        return Response(
            self._profile_data(self.own_profile()),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses=DistributorProfileSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request: Request, store: str) -> Response:
        """Profile, invite code, the store's share link and the upline (at most three levels)."""
        return Response(self._profile_data(self.own_profile()))

    @extend_schema(responses=ShareLinksSerializer)
    @action(detail=False, methods=["get"], url_path="share-links")
    def share_links(self, request: Request, store: str) -> Response:
        """The store's link and one per product on sale, each with ?ref=CODE, a QR code URL and
        a poster URL; and the invite link for new distributors."""
        distributor = self.own_profile()
        join_url = links.join_url(merchant=self.merchant, invite_code=distributor.invite_code)
        data = {
            "invite_code": distributor.invite_code,
            "join_url": join_url,
            "join_qr_url": links.qr_url(
                merchant=self.merchant, path=links.join_path(merchant=self.merchant)
            ),
            "links": links.share_links(merchant=self.merchant, invite_code=distributor.invite_code),
        }
        return Response(ShareLinksSerializer(data).data)

    def _profile_data(self, distributor: Distributor) -> dict:
        store = links.store_link(merchant=self.merchant, invite_code=distributor.invite_code)
        distributor.share_url = store.url
        distributor.qr_url = store.qr_url
        distributor.upline = distributor_upline(distributor=distributor)
        for relative_level, member in enumerate(distributor.upline, start=1):
            member.relative_level = relative_level
        return self.get_serializer(distributor).data


@extend_schema(tags=["merchant"])
class MerchantDistributorViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet
):
    """The merchant's distributors with their inviter and place in the tree (read-only)."""

    queryset = Distributor.objects.all()
    serializer_class = MerchantDistributorSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "parent").order_by("tree_id", "lft")
