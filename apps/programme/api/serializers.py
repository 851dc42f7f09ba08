"""Serializers of the programme's figures: team, leaderboards, tier progress."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from apps.core.api_schema import NamedChoiceField, QueryChoiceField
from apps.distributors.api.serializers import DistributorBriefSerializer, UplineMemberSerializer
from apps.distributors.models import Combinator, CustomerBinding, Tier, TierCondition
from apps.marketing.api.serializers import CouponGrantSerializer, StoreCouponSerializer
from apps.marketing.models import CouponGrant

from ..binding import BindOutcome
from ..leaderboards import Board, Period

PERIOD_CHOICES = [key for key, _label in Period.choices]
BOARD_CHOICES = [key for key, _label in Board.choices]


class TeamMemberSerializer(DistributorBriefSerializer):
    joined_at = serializers.DateTimeField(read_only=True)
    recruits = serializers.IntegerField(read_only=True, help_text="Their direct invitees.")
    recruits_in_period = serializers.IntegerField(read_only=True)
    subtree_size = serializers.IntegerField(read_only=True, help_text="Everyone below them.")
    sales_in_period = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="Sales as level 1, see README."
    )
    sales_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta(DistributorBriefSerializer.Meta):
        fields = [
            *DistributorBriefSerializer.Meta.fields,
            "joined_at",
            "recruits",
            "recruits_in_period",
            "subtree_size",
            "sales_in_period",
            "sales_total",
        ]
        read_only_fields = fields


class TeamLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    count = serializers.IntegerField()


class TeamSerializer(serializers.Serializer):
    team_size = serializers.IntegerField(help_text="Everyone below the caller, at any depth.")
    period = serializers.CharField()
    own_sales = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The caller's own sales in the period."
    )
    levels = TeamLevelSerializer(many=True)
    upline = UplineMemberSerializer(many=True)


class TeamQuerySerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=3, default=1)
    period = serializers.ChoiceField(choices=PERIOD_CHOICES, default=Period.DEFAULT)


class LeaderboardQuerySerializer(serializers.Serializer):
    board = QueryChoiceField(choices=BOARD_CHOICES, default=Board.DEFAULT)
    period = QueryChoiceField(choices=PERIOD_CHOICES, default=Period.DEFAULT)


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="Masked (张*), except the caller's own.")
    value = serializers.CharField(help_text="Amount (two places) or a count of recruits.")
    is_me = serializers.BooleanField(source="is_viewer")


@extend_schema_serializer(many=False)  # one board (an object), also from the merchant's list route
class LeaderboardSerializer(serializers.Serializer):
    board = serializers.CharField()
    period = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    top = LeaderboardEntrySerializer(many=True)
    me = LeaderboardEntrySerializer(
        source="viewer", allow_null=True, help_text="The caller's own rank; null = unranked."
    )


class ConditionProgressSerializer(serializers.Serializer):
    metric = NamedChoiceField(TierCondition.Metric.choices, enum_name="TierMetricEnum")
    label = serializers.CharField()  # type: ignore[assignment]
    period_days = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2)
    missing = serializers.DecimalField(max_digits=14, decimal_places=2)
    met = serializers.BooleanField()
    text = serializers.CharField(
        help_text="What is missing, e.g. “¥320.00 more own sales in 30 days”."
    )


class TierBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name", "rank"]
        read_only_fields = fields


class TierStatusSerializer(serializers.Serializer):
    current = TierBriefSerializer(allow_null=True)
    tier_since = serializers.DateTimeField(allow_null=True)
    next_tier = TierBriefSerializer(allow_null=True)
    combinator = NamedChoiceField(Combinator.choices, enum_name="CombinatorEnum")
    conditions = ConditionProgressSerializer(many=True)


class BindingRequestSerializer(serializers.Serializer):
    invite_code = serializers.CharField(
        max_length=32, help_text="The code of the share link or QR code the customer arrived by."
    )


class CustomerBindingSerializer(serializers.ModelSerializer):
    distributor = DistributorBriefSerializer(read_only=True)
    source = NamedChoiceField(  # type: ignore[assignment]
        CustomerBinding.Source.choices, enum_name="BindingSourceEnum", read_only=True
    )

    class Meta:
        model = CustomerBinding
        fields = ["distributor", "source", "bound_at", "expires_at"]
        read_only_fields = fields


class CouponLinkClaimSerializer(serializers.Serializer):
    coupon = serializers.IntegerField(min_value=1, help_text="The coupon the link shares.")
    invite_code = serializers.CharField(
        max_length=32, help_text="The code the distributor's coupon link carries (``?ref=``)."
    )


class CouponLinkBindingSerializer(serializers.Serializer):
    outcome = NamedChoiceField(
        [outcome.value for outcome in BindOutcome],
        enum_name="CouponLinkBindOutcomeEnum",
        help_text="bound: to the link's distributor (now or already); kept: an earlier binding "
        "stays in force (permanent, or N days not over); refused: the binding rules refused the "
        "bind (see code) and the caller is not bound through this link — the coupon is claimed "
        "all the same.",
    )
    code = serializers.CharField(
        source="refusal_code",
        help_text="Why the bind was refused (self_referral, referral_loop, not_a_new_customer); "
        "empty unless refused.",
    )
    detail = serializers.CharField(
        source="refusal_message", help_text="The refusal for the consumer; empty unless refused."
    )
    distributor = DistributorBriefSerializer(
        source="bound_to",
        allow_null=True,
        help_text="Whom the caller's orders credit now (the binding in force), or null.",
    )


class CouponLinkClaimResultSerializer(CouponGrantSerializer):
    """The coupon claimed (a grant, as in ``my-coupons/``) and, in ``binding``, what became of the
    bind the link asked for. Serialize with ``context={"claim": CouponLinkClaim}``."""

    binding = serializers.SerializerMethodField()

    class Meta(CouponGrantSerializer.Meta):
        fields = [*CouponGrantSerializer.Meta.fields, "binding"]
        read_only_fields = fields

    @extend_schema_field(CouponLinkBindingSerializer)
    def get_binding(self, grant: CouponGrant) -> dict:
        return CouponLinkBindingSerializer(self.context["claim"]).data


class CouponLinkSerializer(serializers.Serializer):
    coupon = StoreCouponSerializer()
    url = serializers.URLField(help_text="The coupon link with the caller's code.")
