from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commissions.models import CommissionPlan, CommissionRecord, Wallet
from apps.commissions.services import commission_plan_update
from apps.core.api import MerchantStaffViewSet, StoreViewSet
from apps.core.errors import NotFound

from .serializers import (
    CommissionPlanSerializer,
    CommissionRecordSerializer,
    EarningsSerializer,
    MerchantCommissionRecordSerializer,
)


@extend_schema(tags=["distributor"])
class DistributorEarningsViewSet(StoreViewSet):
    """The caller's wallet in this store."""

    queryset = Wallet.objects.all()
    serializer_class = EarningsSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(distributor__user=self.request.user)

    @extend_schema(responses=EarningsSerializer)
    @action(detail=False, methods=["get"])
    def earnings(self, request: Request, store: str) -> Response:
        """Frozen, available, withdrawn and total commission (冻结 / 可提现 / 已提现)."""
        wallet = self.get_queryset().first()
        if wallet is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return Response(self.get_serializer(wallet).data)


@extend_schema(tags=["distributor"])
class DistributorCommissionViewSet(mixins.ListModelMixin, StoreViewSet):
    """The caller's own commission records in this store, newest first."""

    queryset = CommissionRecord.objects.all()
    serializer_class = CommissionRecordSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.filter(beneficiary__user=self.request.user)
            .select_related("order", "order_line")
            .order_by("-id")
        )


@extend_schema(tags=["merchant"])
class MerchantCommissionViewSet(mixins.ListModelMixin, MerchantStaffViewSet):
    """Every commission record of the merchant, newest first."""

    queryset = CommissionRecord.objects.all()
    serializer_class = MerchantCommissionRecordSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("order", "order_line", "beneficiary__user").order_by("-id")


@extend_schema(tags=["merchant"])
class CommissionPlanViewSet(MerchantStaffViewSet):
    """The merchant's commission plan: percent per level, their cap, and the freeze period."""

    queryset = CommissionPlan.objects.all()
    serializer_class = CommissionPlanSerializer

    def plan(self) -> CommissionPlan:
        plan = self.get_queryset().first()
        if plan is None:
            raise NotFound(_("This merchant has no commission plan."), code="no_commission_plan")
        return plan

    @extend_schema(operation_id="v1_merchant_commission_plan_retrieve")
    def current(self, request: Request) -> Response:
        return Response(self.get_serializer(self.plan()).data)

    @extend_schema(operation_id="v1_merchant_commission_plan_update")
    def replace(self, request: Request) -> Response:
        serializer = self.get_serializer(self.plan(), data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = commission_plan_update(merchant=self.merchant, **serializer.validated_data)
        return Response(self.get_serializer(plan).data)
