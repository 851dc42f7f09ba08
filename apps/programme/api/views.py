"""The programme in the API: a customer's binding (``stores/<store>/binding/``: a customer arriving
through the API is bound as one arriving on a page is), a distributor's team, tier progress and
leaderboards (under ``stores/<store>/distributor/``, beside the distributors app's own actions),
and the merchant's leaderboards."""

from typing import cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.distributors.links import coupon_share_url
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.selectors import binding_for_customer, distributor_upline
from apps.marketing.selectors import coupons_on_offer
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .. import team
from ..binding import coupon_link_claim, customer_bind
from ..leaderboards import leaderboard_get, period_start
from ..tiers import tier_progress
from .serializers import (
    BindingRequestSerializer,
    CouponLinkClaimResultSerializer,
    CouponLinkClaimSerializer,
    CouponLinkSerializer,
    CustomerBindingSerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    TeamMemberSerializer,
    TeamQuerySerializer,
    TeamSerializer,
    TierStatusSerializer,
)


@extend_schema(tags=["storefront"])
class CustomerBindingViewSet(StoreViewSet):
    """The caller's binding (锁客) in this store: which distributor their orders credit."""

    queryset = CustomerBinding.objects.all()
    serializer_class = CustomerBindingSerializer
    pagination_class = None

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(customer=self.request.user)

    @extend_schema(responses=CustomerBindingSerializer)
    def list(self, request: Request, store: str) -> Response:
        """The binding in force now; 404 ``not_bound`` when there is none (or it expired)."""
        binding = binding_for_customer(merchant=self.merchant, customer=cast(User, request.user))
        if binding is None:
            raise NotFound(_("You are not bound to a distributor in this store."), code="not_bound")
        return Response(CustomerBindingSerializer(binding).data)

    @extend_schema(request=BindingRequestSerializer, responses=CustomerBindingSerializer)
    def create(self, request: Request, store: str) -> Response:
        """Bind the caller to the owner of ``invite_code`` (the code of the share link they
        arrived by), per the store's binding mode; answers the binding in force afterwards, which
        stays the earlier one while a permanent or N-day binding holds. Refused (4xx, nothing
        changed): an unknown code, the caller's own code or their own team's, a store binding new
        customers only."""
        serializer = BindingRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        binding = customer_bind(
            merchant=self.merchant,
            customer=cast(User, request.user),
            invite_code=serializer.validated_data["invite_code"],
            ip=request_ip(request),
            device=request_device_id(request),
        )
        binding = CustomerBinding.objects.select_related("distributor__user").get(pk=binding.pk)
        return Response(CustomerBindingSerializer(binding).data, status=status.HTTP_200_OK)


@extend_schema(tags=["storefront"])
class CouponLinkViewSet(StoreViewSet):
    """Claiming through a distributor's coupon link (``…/coupons/<id>/?ref=CODE``)."""

    queryset = CustomerBinding.objects.none()
    serializer_class = CouponLinkClaimSerializer

    @extend_schema(
        request=CouponLinkClaimSerializer, responses={201: CouponLinkClaimResultSerializer}
    )
    def create(self, request: Request, store: str) -> Response:
        """Bind the caller under the store's binding rules to the distributor whose code the link
        carries, as opening any of their links does, and claim the coupon recording the
        distributor. A bind the rules refuse (their own code, a loop, not a new customer) leaves
        the caller unbound and the coupon claimed all the same: ``binding.outcome`` is
        ``refused`` with its ``code`` (``kept`` when an earlier binding stays in force, ``bound``
        otherwise). A coupon distributors may not share, another store's, or an unknown code:
        404; a claim refused (limit, none left): 400; either way nothing is written."""
        serializer = CouponLinkClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = coupon_link_claim(
            merchant=self.merchant,
            customer=cast(User, request.user),
            coupon_id=serializer.validated_data["coupon"],
            invite_code=serializer.validated_data["invite_code"],
            ip=request_ip(request),
            device=request_device_id(request),
        )
        return Response(
            CouponLinkClaimResultSerializer(claim.grant, context={"claim": claim}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["distributor"])
class DistributorFiguresViewSet(StoreViewSet):
    """The caller's team, tier progress and the store's leaderboards (the caller's own rank)."""

    queryset = Distributor.objects.all()
    serializer_class = TeamSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(user=self.request.user).select_related("user", "tier")

    def own_profile(self) -> Distributor:
        distributor = self.get_queryset().first()
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    @extend_schema(responses=CouponLinkSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="coupon-links")
    def coupon_links(self, request: Request, store: str) -> Response:
        """The coupons the merchant lets distributors share, each with the caller's coupon link."""
        distributor = self.own_profile()
        rows = [
            {
                "coupon": coupon,
                "url": coupon_share_url(
                    merchant=self.merchant,
                    coupon_id=coupon.pk,
                    invite_code=distributor.invite_code,
                ),
            }
            for coupon in coupons_on_offer(merchant=self.merchant, shareable=True)
        ]
        return Response(CouponLinkSerializer(rows, many=True).data)

    @extend_schema(parameters=[TeamQuerySerializer], responses=TeamSerializer)
    @action(detail=False, methods=["get"])
    def team(self, request: Request, store: str) -> Response:
        """The team's size, the count per level 1–3, the caller's sales in the period (``period``:
        week, month, 30d, all) and upline (three levels). Members: ``team-members``."""
        distributor = self.own_profile()
        query = TeamQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        summary = team.team_summary(distributor=distributor)
        upline = distributor_upline(distributor=distributor)
        for relative_level, member in enumerate(upline, start=1):
            member.relative_level = relative_level
        data = {
            "team_size": summary.team_size,
            "period": period,
            "own_sales": team.own_sales(distributor=distributor, since=period_start(period)),
            "levels": [
                {"level": level, "count": count}
                for level, count in sorted(summary.level_counts.items())
            ],
            "upline": upline,
        }
        return Response(TeamSerializer(data).data)

    @extend_schema(parameters=[TeamQuerySerializer], responses=TeamMemberSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="team-members")
    def team_members(self, request: Request, store: str) -> Response:
        """One level's members (``level`` 1–3), oldest first, with their sales in the period and
        all time, recruits and team sizes; paginated."""
        distributor = self.own_profile()
        query = TeamQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        members = team.team_members(
            distributor=distributor,
            relative_level=query.validated_data["level"],
            since=period_start(query.validated_data["period"]),
        )
        page = self.paginate_queryset(members)
        return self.get_paginated_response(TeamMemberSerializer(page, many=True).data)

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses=LeaderboardSerializer)
    @action(detail=False, methods=["get"])
    def leaderboard(self, request: Request, store: str) -> Response:
        """The store's top distributors of the period by sales, commission or recruits, names
        masked, and the caller's own rank."""
        distributor = self.own_profile()
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = leaderboard_get(merchant=self.merchant, viewer=distributor, **query.validated_data)
        return Response(LeaderboardSerializer(result).data)

    @extend_schema(responses=TierStatusSerializer)
    @action(detail=False, methods=["get"])
    def tier(self, request: Request, store: str) -> Response:
        """The caller's tier and what is missing for the next one."""
        distributor = self.own_profile()
        progress = tier_progress(distributor=distributor)
        data = {
            "current": progress.current,
            "tier_since": distributor.tier_since,
            "next_tier": progress.next_tier,
            "combinator": progress.combinator,
            "conditions": progress.conditions,
        }
        return Response(TierStatusSerializer(data).data)


@extend_schema(tags=["merchant"])
class MerchantLeaderboardViewSet(MerchantStaffViewSet):
    """The merchant's leaderboards (排行榜) for a period, as distributors see them (names masked)."""

    queryset = Distributor.objects.all()
    pagination_class = None

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses=LeaderboardSerializer)
    def list(self, request: Request) -> Response:
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = leaderboard_get(merchant=self.merchant, **query.validated_data)
        return Response(LeaderboardSerializer(result).data)
