"""REST API of the distributor programme: applications, appointments, programme settings, tiers
with their conditions, the caller's tier progress and bound customers, fraud flags."""

from typing import cast

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.api_schema import NamedChoiceField
from apps.core.errors import NotFound
from apps.distributors.guards import fraud_flag_dismiss, fraud_flag_suspend
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.models import (
    Combinator,
    CustomerBinding,
    Distributor,
    DistributorApplication,
    FraudFlag,
    ProgrammeSettings,
    Tier,
    TierCondition,
)
from apps.distributors.recruitment import (
    application_approve,
    application_latest,
    application_reject,
    application_submit,
    distributor_appoint,
    programme_settings_update,
    user_find_for_appointment,
)
from apps.distributors.selectors import bound_customers, programme_settings_for
from apps.distributors.tiers import tier_delete, tier_save
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import MerchantDistributorSerializer

# --- Serializers ------------------------------------------------------------------------------


class ApplicationAnswerSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()


class ApplicationSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        DistributorApplication.Status.choices, enum_name="ApplicationStatusEnum", read_only=True
    )
    answers = ApplicationAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = DistributorApplication
        fields = [
            "id",
            "status",
            "invite_code",
            "answers",
            "reject_reason",
            "created_at",
            "reviewed_at",
        ]
        read_only_fields = fields


class MerchantDistributorApplicationSerializer(ApplicationSerializer):
    applicant = serializers.CharField(source="user.display_name", read_only=True)

    class Meta(ApplicationSerializer.Meta):
        fields = ["id", "user", "applicant", *ApplicationSerializer.Meta.fields[1:], "distributor"]
        read_only_fields = fields


class ApplySerializer(serializers.Serializer):
    answers = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        max_length=50,
        help_text="One answer per question of the store, in order.",
    )
    invite_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class MyApplicationSerializer(serializers.Serializer):
    recruitment_mode = NamedChoiceField(
        ProgrammeSettings.RecruitmentMode.choices, enum_name="RecruitmentModeEnum"
    )
    questions = serializers.ListField(child=serializers.CharField())
    is_distributor = serializers.BooleanField()
    application = ApplicationSerializer(allow_null=True)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class AppointSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=150, help_text="The person's username or phone.")
    invite_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class ProgrammeSettingsSerializer(serializers.ModelSerializer):
    recruitment_mode = NamedChoiceField(
        ProgrammeSettings.RecruitmentMode.choices, enum_name="RecruitmentModeEnum"
    )
    binding_mode = NamedChoiceField(
        ProgrammeSettings.BindingMode.choices, enum_name="BindingModeEnum", required=False
    )
    application_questions = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=20, required=False
    )

    class Meta:
        model = ProgrammeSettings
        fields = [
            "recruitment_mode",
            "spend_threshold",
            "application_questions",
            "binding_mode",
            "binding_days",
            "binding_new_customers_only",
            "self_purchase_commission",
            "agency_enabled",
            "refund_rate_threshold",
            "refund_rate_days",
        ]


class TierConditionSerializer(serializers.ModelSerializer):
    purpose = NamedChoiceField(TierCondition.Purpose.choices, enum_name="TierConditionPurposeEnum")
    metric = NamedChoiceField(TierCondition.Metric.choices, enum_name="TierMetricEnum")

    class Meta:
        model = TierCondition
        fields = ["purpose", "metric", "threshold", "period_days"]


class TierSerializer(serializers.ModelSerializer):
    upgrade_combinator = NamedChoiceField(
        Combinator.choices, enum_name="CombinatorEnum", required=False
    )
    keep_combinator = NamedChoiceField(
        Combinator.choices, enum_name="CombinatorEnum", required=False
    )
    conditions = TierConditionSerializer(many=True, required=False)

    class Meta:
        model = Tier
        fields = [
            "id",
            "name",
            "rank",
            "level1_percent",
            "level2_percent",
            "level3_percent",
            "upgrade_combinator",
            "keep_combinator",
            "conditions",
        ]
        read_only_fields = ["id"]
        validators: list = []  # uniqueness per merchant is checked by tier_save


class BoundCustomerSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="customer.display_name", read_only=True)
    seconds_left = serializers.SerializerMethodField(
        help_text="Seconds until the binding expires; null for a permanent binding."
    )

    class Meta:
        model = CustomerBinding
        fields = ["id", "display_name", "bound_at", "expires_at", "seconds_left"]
        read_only_fields = fields

    def get_seconds_left(self, binding: CustomerBinding) -> int | None:
        if binding.expires_at is None:
            return None
        return max(int((binding.expires_at - self.context["now"]).total_seconds()), 0)


class FraudFlagSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(FraudFlag.Kind.choices, enum_name="FraudFlagKindEnum", read_only=True)
    status = NamedChoiceField(
        FraudFlag.Status.choices, enum_name="FraudFlagStatusEnum", read_only=True
    )

    class Meta:
        model = FraudFlag
        fields = ["id", "distributor", "kind", "status", "detail", "created_at", "updated_at"]
        read_only_fields = fields


# --- Distributor / applicant (store) ----------------------------------------------------------


@extend_schema(tags=["distributor"])
class ProgrammeSelfViewSet(StoreViewSet):
    """The caller's application and bound customers in this store."""

    queryset = Distributor.objects.all()
    serializer_class = MyApplicationSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(user=self.request.user)

    def own_profile(self) -> Distributor:
        distributor = self.get_queryset().select_related("tier").first()
        if distributor is None:
            raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
        return distributor

    def _my_application(self) -> dict:
        settings = programme_settings_for(merchant=self.merchant)
        user = cast(User, self.request.user)
        return {
            "recruitment_mode": settings.recruitment_mode,
            "questions": list(settings.application_questions),
            "is_distributor": self.get_queryset().exists(),
            "application": application_latest(merchant=self.merchant, user=user),
        }

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=MyApplicationSerializer,
        operation_id="v1_stores_distributor_application_retrieve",
    )
    @extend_schema(
        methods=["POST"],
        request=ApplySerializer,
        responses={201: MyApplicationSerializer},
        operation_id="v1_stores_distributor_application_create",
    )
    @action(detail=False, methods=["get", "post"])
    def application(self, request: Request, store: str) -> Response:
        """GET: the store's questions and the caller's latest application (its outcome and reason).
        POST: apply (application mode; free)."""
        if request.method == "POST":
            serializer = ApplySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            application_submit(
                merchant=self.merchant,
                user=cast(User, request.user),
                answers=serializer.validated_data["answers"],
                invite_code=serializer.validated_data["invite_code"],
                ip=request_ip(request),
                device=request_device_id(request),
            )
            return Response(
                MyApplicationSerializer(self._my_application()).data,
                status=status.HTTP_201_CREATED,
            )
        return Response(MyApplicationSerializer(self._my_application()).data)

    @extend_schema(responses=BoundCustomerSerializer(many=True))
    @action(detail=False, methods=["get"])
    def customers(self, request: Request, store: str) -> Response:
        """Customers bound to the caller now, with the time left on each binding."""
        distributor = self.own_profile()
        now = timezone.now()
        page = self.paginate_queryset(bound_customers(distributor=distributor, now=now))
        serializer = BoundCustomerSerializer(page, many=True, context={"now": now})
        return self.get_paginated_response(serializer.data)


# --- Merchant back office ---------------------------------------------------------------------


@extend_schema(tags=["merchant"])
class MerchantApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantStaffViewSet
):
    """Distributor applications to review (filter with ?status=pending)."""

    queryset = DistributorApplication.objects.all()
    serializer_class = MerchantDistributorApplicationSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.select_related("user").order_by("-id")
        wanted = self.request.query_params.get("status")
        if wanted in DistributorApplication.Status.values:
            queryset = queryset.filter(status=wanted)
        return queryset

    @extend_schema(request=None, responses=MerchantDistributorSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve: the applicant becomes a distributor under the application's inviter."""
        distributor = application_approve(
            application=self.get_object(), reviewer=cast(User, request.user)
        )
        distributor = Distributor.objects.select_related("user", "parent").get(pk=distributor.pk)
        return Response(MerchantDistributorSerializer(distributor).data)

    @extend_schema(request=RejectSerializer, responses=MerchantDistributorApplicationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject with a reason the applicant sees."""
        application = self.get_object()
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application_reject(
            application=application,
            reviewer=cast(User, request.user),
            reason=serializer.validated_data["reason"],
        )
        return Response(self.get_serializer(application).data)


@extend_schema(tags=["merchant"])
class MerchantAppointmentViewSet(MerchantStaffViewSet):
    """指定: make a user (by username or phone) a distributor of the merchant."""

    queryset = Distributor.objects.all()
    serializer_class = AppointSerializer

    @extend_schema(request=AppointSerializer, responses={201: MerchantDistributorSerializer})
    def create(self, request: Request) -> Response:
        serializer = AppointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_find_for_appointment(lookup=serializer.validated_data["user"])
        distributor = distributor_appoint(
            merchant=self.merchant, user=user, invite_code=serializer.validated_data["invite_code"]
        )
        distributor = Distributor.objects.select_related("user", "parent").get(pk=distributor.pk)
        return Response(
            MerchantDistributorSerializer(distributor).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["merchant"])
class ProgrammeSettingsViewSet(MerchantStaffViewSet):
    """The merchant's programme: recruitment mode, threshold, questions, binding rules."""

    queryset = ProgrammeSettings.objects.all()
    serializer_class = ProgrammeSettingsSerializer

    @extend_schema(operation_id="v1_merchant_programme_settings_retrieve")
    def current(self, request: Request) -> Response:
        return Response(self.get_serializer(programme_settings_for(merchant=self.merchant)).data)

    @extend_schema(operation_id="v1_merchant_programme_settings_update")
    def replace(self, request: Request) -> Response:
        serializer = self.get_serializer(
            programme_settings_for(merchant=self.merchant), data=request.data
        )
        serializer.is_valid(raise_exception=True)
        settings = programme_settings_update(merchant=self.merchant, **serializer.validated_data)
        return Response(self.get_serializer(settings).data)


@extend_schema(tags=["merchant"])
class MerchantTierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    MerchantStaffViewSet,
):
    """Tiers with their commission percents and upgrade / keep conditions."""

    queryset = Tier.objects.all()
    serializer_class = TierSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("conditions").order_by("rank")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        conditions = data.pop("conditions", [])
        serializer.instance = tier_save(merchant=self.merchant, values=data, conditions=conditions)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        conditions = data.pop("conditions", None)
        serializer.instance = tier_save(
            merchant=self.merchant, tier=serializer.instance, values=data, conditions=conditions
        )

    def perform_destroy(self, instance: Tier) -> None:
        tier_delete(tier=instance)


@extend_schema(tags=["merchant"])
class MerchantFraudFlagViewSet(mixins.ListModelMixin, MerchantStaffViewSet):
    """Distributors flagged for review (filter with ?status=open)."""

    queryset = FraudFlag.objects.all()
    serializer_class = FraudFlagSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.order_by("-id")
        wanted = self.request.query_params.get("status")
        if wanted in FraudFlag.Status.values:
            queryset = queryset.filter(status=wanted)
        return queryset

    @extend_schema(request=None, responses=FraudFlagSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        flag = fraud_flag_dismiss(flag=self.get_object(), reviewer=cast(User, request.user))
        return Response(self.get_serializer(flag).data)

    @extend_schema(request=None, responses=FraudFlagSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        """Close the flag and suspend the distributor (it keeps what it already earned)."""
        flag = fraud_flag_suspend(flag=self.get_object(), reviewer=cast(User, request.user))
        return Response(self.get_serializer(flag).data)
