from typing import cast

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.distributors.models import Distributor
from apps.distributors.selectors import distributor_for_user
from apps.ledger.models import SupplierWallet
from apps.suppliers.scoping import SupplierStaffViewSet
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet
from apps.withdrawals.models import Withdrawal, WithdrawalSettings, WithdrawalStatusChange
from apps.withdrawals.selectors import withdrawal_settings_for
from apps.withdrawals.services import (
    supplier_withdrawal_request,
    withdrawal_approve,
    withdrawal_preview,
    withdrawal_reject,
    withdrawal_request,
    withdrawal_settings_update,
)

from .serializers import (
    MerchantWithdrawalSerializer,
    SupplierBalanceSerializer,
    SupplierWithdrawalRequestSerializer,
    SupplierWithdrawalSerializer,
    WithdrawalQuoteParamsSerializer,
    WithdrawalQuoteSerializer,
    WithdrawalRejectSerializer,
    WithdrawalRequestSerializer,
    WithdrawalSerializer,
    WithdrawalSettingsSerializer,
)

HISTORY = Prefetch("status_changes", queryset=WithdrawalStatusChange.objects.order_by("id"))


@extend_schema(tags=["distributor"])
class DistributorWithdrawalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """The caller's withdrawals (提现) in this store, newest first."""

    queryset = Withdrawal.objects.all()
    serializer_class = WithdrawalSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.filter(distributor__user=self.request.user)
            .prefetch_related(HISTORY)
            .order_by("-id")
        )

    def own_distributor(self) -> Distributor:
        distributor = distributor_for_user(
            merchant=self.merchant, user=cast(User, self.request.user)
        )
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    @extend_schema(request=WithdrawalRequestSerializer, responses={201: WithdrawalSerializer})
    def create(self, request: Request, store: str) -> Response:
        """Ask to withdraw an amount from the available balance (debited at once)."""
        distributor = self.own_distributor()
        serializer = WithdrawalRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        withdrawal = withdrawal_request(
            merchant=self.merchant,
            distributor=distributor,
            amount=serializer.validated_data["amount"],
            account=serializer.validated_data["account"],
            request_token=serializer.validated_data["request_token"],
        )
        data = self.get_serializer(self.get_queryset().get(pk=withdrawal.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[WithdrawalQuoteParamsSerializer], responses=WithdrawalQuoteSerializer
    )
    @action(detail=False, methods=["get"])
    def quote(self, request: Request, store: str) -> Response:
        """Fee, tax withheld and what is paid out for ``?amount=`` under the store's rules (refused
        like the request would be: below the minimum, above the available balance)."""
        distributor = self.own_distributor()
        params = WithdrawalQuoteParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        quote = withdrawal_preview(
            merchant=self.merchant,
            distributor=distributor,
            amount=params.validated_data["amount"],
        )
        return Response(WithdrawalQuoteSerializer(quote).data)


@extend_schema(tags=["merchant"])
class MerchantWithdrawalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet
):
    """The merchant's withdrawal queue and history, newest first."""

    queryset = Withdrawal.objects.all()
    serializer_class = MerchantWithdrawalSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return (
            queryset.select_related("distributor__user").prefetch_related(HISTORY).order_by("-id")
        )

    def _data(self, withdrawal_id: int) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=withdrawal_id)).data

    @extend_schema(request=None, responses=MerchantWithdrawalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve a requested withdrawal; the payout follows in the background."""
        withdrawal = self.get_object()
        withdrawal_approve(
            merchant=self.merchant, withdrawal_id=withdrawal.pk, actor=cast(User, request.user)
        )
        return Response(self._data(withdrawal.pk))

    @extend_schema(request=WithdrawalRejectSerializer, responses=MerchantWithdrawalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject a requested withdrawal with a reason; the money returns to the balance."""
        withdrawal = self.get_object()
        serializer = WithdrawalRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        withdrawal_reject(
            merchant=self.merchant,
            withdrawal_id=withdrawal.pk,
            actor=cast(User, request.user),
            reason=serializer.validated_data["reason"],
        )
        return Response(self._data(withdrawal.pk))


@extend_schema(tags=["merchant"])
class WithdrawalSettingsViewSet(MerchantStaffViewSet):
    """The merchant's withdrawal rules: minimum, fee and its fee-free band, tax, review, payout."""

    queryset = WithdrawalSettings.objects.all()
    serializer_class = WithdrawalSettingsSerializer

    @extend_schema(operation_id="v1_merchant_withdrawal_settings_retrieve")
    def current(self, request: Request) -> Response:
        return Response(self.get_serializer(withdrawal_settings_for(merchant=self.merchant)).data)

    @extend_schema(operation_id="v1_merchant_withdrawal_settings_update")
    def replace(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings = withdrawal_settings_update(merchant=self.merchant, **serializer.validated_data)
        return Response(self.get_serializer(settings).data)


@extend_schema(tags=["supplier"])
class SupplierBalanceViewSet(mixins.ListModelMixin, SupplierStaffViewSet):
    """The caller's balances with each store that sold its goods (what each store owes it)."""

    queryset = SupplierWallet.objects.all()
    serializer_class = SupplierBalanceSerializer
    pagination_class = None

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("merchant").order_by("merchant__name", "merchant_id")


@extend_schema(tags=["supplier"])
class SupplierWithdrawalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, SupplierStaffViewSet
):
    """The caller's withdrawals (提现) of what stores owe it, newest first."""

    queryset = Withdrawal.objects.all()
    serializer_class = SupplierWithdrawalSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related(HISTORY).order_by("-id")

    @extend_schema(
        request=SupplierWithdrawalRequestSerializer, responses={201: SupplierWithdrawalSerializer}
    )
    def create(self, request: Request) -> Response:
        """Ask to withdraw an amount of one store's debt (its available balance there). A store
        that never sold the caller's goods answers 404."""
        serializer = SupplierWithdrawalRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wallet = (
            SupplierWallet.objects.filter(
                supplier=self.supplier, merchant_id=serializer.validated_data["store"]
            )
            .select_related("merchant")
            .first()
        )
        if wallet is None:
            raise NotFound(_("No such store."), code="unknown_store")
        withdrawal = supplier_withdrawal_request(
            merchant=wallet.merchant,
            supplier=self.supplier,
            amount=serializer.validated_data["amount"],
            account=serializer.validated_data["account"],
            actor=cast(User, request.user),
            request_token=serializer.validated_data["request_token"],
        )
        data = self.get_serializer(self.get_queryset().get(pk=withdrawal.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)
