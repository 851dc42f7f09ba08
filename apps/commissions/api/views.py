from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commissions.models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord
from apps.commissions.rule_settings import (
    bonus_tier_delete,
    bonus_tier_save,
    commission_override_delete,
    commission_override_save,
)
from apps.commissions.services import CommissionPlanInvalid, commission_plan_update
from apps.commissions.simulation import commission_plan_simulate
from apps.core.errors import NotFound
from apps.ledger.models import Wallet
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    BonusTierSerializer,
    CommissionOverrideSerializer,
    CommissionPlanSerializer,
    CommissionRecordSerializer,
    CommissionSimulationRequestSerializer,
    CommissionSimulationSerializer,
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


@extend_schema(tags=["merchant"])
class CommissionOverrideViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """The merchant's product and SKU commission overrides (each level a percent or a fixed
    amount per unit; an empty level falls through to the tier, then the plan)."""

    queryset = CommissionOverride.objects.all()
    serializer_class = CommissionOverrideSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        serializer.instance = commission_override_save(
            merchant=self.merchant, **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        instance: CommissionOverride = serializer.instance
        fields: dict[str, Any] = {
            "product": instance.product,
            "sku": instance.sku,
            "mode": instance.mode,
            "level1_value": instance.level1_value,
            "level2_value": instance.level2_value,
            "level3_value": instance.level3_value,
        } | dict(serializer.validated_data)
        serializer.instance = commission_override_save(
            merchant=self.merchant, override_id=instance.pk, **fields
        )

    def perform_destroy(self, instance: CommissionOverride) -> None:
        commission_override_delete(merchant=self.merchant, override_id=instance.pk)


@extend_schema(tags=["merchant"])
class BonusTierViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """Performance bonus tiers (阶梯) of the merchant's plan: the extra level-1 percent once a
    distributor's sales in the calendar month reach the threshold (the highest reached wins)."""

    queryset = BonusTier.objects.all()
    serializer_class = BonusTierSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by("monthly_sales_threshold", "id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        serializer.instance = bonus_tier_save(merchant=self.merchant, **serializer.validated_data)

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        instance: BonusTier = serializer.instance
        fields = {
            "monthly_sales_threshold": instance.monthly_sales_threshold,
            "extra_percent": instance.extra_percent,
        } | dict(serializer.validated_data)
        serializer.instance = bonus_tier_save(merchant=self.merchant, tier_id=instance.pk, **fields)

    def perform_destroy(self, instance: BonusTier) -> None:
        bonus_tier_delete(merchant=self.merchant, tier_id=instance.pk)


@extend_schema(tags=["merchant"])
class CommissionSimulationViewSet(MerchantStaffViewSet):
    """The rule simulator: what the orders completed in the last ``days`` days would have paid
    under a proposed plan, against what they paid, per level and per distributor tier. Saves
    nothing."""

    queryset = CommissionPlan.objects.all()
    serializer_class = CommissionSimulationRequestSerializer

    @extend_schema(
        operation_id="v1_merchant_commission_plan_simulate",
        request=CommissionSimulationRequestSerializer,
        responses=CommissionSimulationSerializer,
    )
    def simulate(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposed = dict(serializer.validated_data)
        days = proposed.pop("days")
        try:
            result = commission_plan_simulate(merchant=self.merchant, proposed=proposed, days=days)
        except CommissionPlanInvalid as error:
            raise ValidationError({error.field: [error.message]}) from error
        return Response(CommissionSimulationSerializer(result).data)
