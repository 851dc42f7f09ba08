"""The refund-rate fraud flag (退款率风控): a level-1 distributor whose customers had at least the
merchant's threshold of what they paid refunded is flagged for review (``FraudFlag`` kind
``refund_rate``) — orders placed to earn commission and then refunded.

The rate is compared exactly (refunded × 100 ≥ threshold × paid, no rounding), and only once the
distributor's orders paid at least ``min_paid`` (a single refunded order is no pattern). One flag is
open per distributor and kind (``fraud_flag_raise`` merges a later finding into it); a dismissed
flag is raised again only when the rate is still at the threshold at the next run.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.core.money import HUNDRED
from apps.distributors.guards import fraud_flag_raise
from apps.distributors.models import Distributor, FraudFlag, ProgrammeSettings
from apps.merchants.models import Merchant

from .selectors import refund_rate_by_distributor


def refund_rate_flags_raise(
    *, merchant: Merchant, since: datetime, threshold: Decimal, min_paid: Decimal
) -> list[FraudFlag]:
    """Flag each level-1 distributor of ``merchant`` whose orders paid since ``since`` at least
    ``min_paid`` and had at least ``threshold`` percent of it refunded. Returns the open flags."""
    rates = refund_rate_by_distributor(merchant=merchant, since=since)
    due = {
        distributor_id: rate
        for distributor_id, rate in rates.items()
        if rate.paid >= min_paid and rate.refunded * HUNDRED >= threshold * rate.paid
    }
    flags = []
    for distributor in Distributor.objects.filter(merchant=merchant, pk__in=due).order_by("pk"):
        rate = due[distributor.pk]
        flags.append(
            fraud_flag_raise(
                distributor=distributor,
                kind=FraudFlag.Kind.REFUND_RATE,
                detail={
                    "refund_rate_percent": str((rate.rate * HUNDRED).quantize(Decimal("0.01"))),
                    "paid": str(rate.paid),
                    "refunded": str(rate.refunded),
                    "threshold_percent": str(threshold),
                    "since": since.isoformat(),
                },
            )
        )
    return flags


def refund_rate_flags_sweep(*, now: datetime | None = None) -> int:
    """Beat: every active merchant with a refund-rate threshold (the default applies to a merchant
    without programme settings), over its own period. Returns how many flags are open after it."""
    now = now or timezone.now()
    defaults = ProgrammeSettings()
    raised = 0
    for merchant in (
        Merchant.objects.filter(status=Merchant.Status.ACTIVE)
        .select_related("programme_settings")
        .order_by("pk")
    ):
        programme = getattr(merchant, "programme_settings", None) or defaults
        if programme.refund_rate_threshold is None:
            continue
        raised += len(
            refund_rate_flags_raise(
                merchant=merchant,
                since=now - timedelta(days=programme.refund_rate_days),
                threshold=programme.refund_rate_threshold,
                min_paid=settings.FENXIAO_REFUND_RATE_MIN_PAID,
            )
        )
    return raised
