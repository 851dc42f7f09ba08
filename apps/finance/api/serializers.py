from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.finance.selectors import Period
from apps.ledger.models import LedgerEntry

MAX_PERIOD_DAYS = 366


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class PeriodQuerySerializer(serializers.Serializer):
    """Whole days from ``start`` to ``end`` inclusive; the month so far when left out."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        start: date = attrs.get("start") or today.replace(day=1)
        end: date = attrs.get("end") or today
        if end < start:
            raise serializers.ValidationError({"end": [_("The period ends before it starts.")]})
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"end": [_("A period is at most a year.")]})
        return {"period": Period(start, end)}


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class BalancesSerializer(serializers.Serializer):
    frozen = _money()
    available = _money()
    withdrawing = _money()
    withdrawn = _money()


class DistributorStatementRowSerializer(BalancesSerializer):
    """One movement of one balance; the four balances as they stood after it."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    movement = serializers.CharField()
    order_number = serializers.CharField()
    level = serializers.IntegerField(allow_null=True)
    commission_kind = serializers.CharField(help_text="commission, margin, or empty")
    rule = serializers.CharField()
    rate_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    explanation = serializers.CharField()
    account = serializers.ChoiceField(
        choices=[
            (value, label)
            for value, label in LedgerEntry.Account.choices
            if value in ("frozen", "available", "withdrawing", "withdrawn")
        ]
    )
    amount = _money()


class DistributorStatementPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    period = PeriodSerializer()
    opening = BalancesSerializer()
    results = DistributorStatementRowSerializer(many=True)


class StatementFiguresSerializer(serializers.Serializer):
    payments_in = _money()
    refunds_out = _money()
    platform_fees = _money()
    commission_earned = _money()
    commission_reversed = _money()
    merchant_net = _money()


class StatementRowSerializer(StatementFiguresSerializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    order_number = serializers.CharField()
    reference = serializers.CharField()


class StatementPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    period = PeriodSerializer()
    totals = StatementFiguresSerializer()
    results = StatementRowSerializer(many=True)


class PayableFiguresSerializer(serializers.Serializer):
    frozen = _money()
    available = _money()
    withdrawing = _money()
    payable = _money()


class PayableRowSerializer(PayableFiguresSerializer):
    distributor_id = serializers.IntegerField()
    distributor = serializers.CharField()
    invite_code = serializers.CharField()


class PayablePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    totals = PayableFiguresSerializer()
    results = PayableRowSerializer(many=True)


class ReconciliationRowSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    outcome_label = serializers.CharField()
    provider = serializers.CharField()
    kind = serializers.CharField()
    reference = serializers.CharField()
    provider_amount = _money(allow_null=True)
    ledger_amount = _money(allow_null=True)
    at = serializers.DateTimeField()
    detail = serializers.CharField()


class ReconciliationSerializer(serializers.Serializer):
    period = PeriodSerializer()
    counts = serializers.DictField(child=serializers.IntegerField())
    statements_missing = serializers.DictField(
        child=serializers.ListField(child=serializers.DateField())
    )
    results = ReconciliationRowSerializer(many=True)
