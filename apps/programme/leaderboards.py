"""排行榜: a merchant's distributors ranked for a period, by sales, commission or recruits.

Definitions (the same on the pages, in the API and in the admin):

- **sales**: the sum of ``OrderLine.paid_amount`` (goods after discounts, without shipping) of the
  orders a distributor is the level-1 distributor of (``Order.distributor``), paid and not
  cancelled (status paid, shipped or completed), counted when paid (``paid_at`` in the period);
  see ``apps.programme.team``. Refunds are not subtracted.
- **commission**: the sum of their commission records at any level, frozen or released
  (cancelled records excluded), each for what refunds left of it (``amount − reversed_amount``),
  counted when the record was created.
- **recruits**: their direct invitees (children in the tree) who joined in the period.

Ranks are competition ranks ("1224"): equal totals share a rank, the next rank skips. Only a total
above zero is ranked. Names are masked (``张*``) except the viewer's own. The top list of a
(merchant, board, period) is cached for ``FENXIAO_LEADERBOARD_CACHE_SECONDS``; the viewer's own rank
is counted fresh (two small aggregate queries).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import CommissionRecord
from apps.distributors.models import Distributor
from apps.merchants.models import Merchant

from .team import sales_lines

TOP_N = 10


class Period:
    WEEK = "week"
    MONTH = "month"
    LAST_30_DAYS = "30d"
    ALL = "all"
    choices = [
        (WEEK, _("This week")),
        (MONTH, _("This month")),
        (LAST_30_DAYS, _("Last 30 days")),
        (ALL, _("All time")),
    ]
    DEFAULT = MONTH


class Board:
    SALES = "sales"
    COMMISSION = "commission"
    RECRUITS = "recruits"
    choices = [(SALES, _("Sales")), (COMMISSION, _("Commission")), (RECRUITS, _("Recruits"))]
    DEFAULT = SALES


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """Where ``period`` starts, in the site's time zone (weeks start on Monday); None = all time."""
    now = timezone.localtime(now or timezone.now())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Period.WEEK:
        return midnight - timedelta(days=midnight.weekday())
    if period == Period.MONTH:
        return midnight.replace(day=1)
    if period == Period.LAST_30_DAYS:
        return now - timedelta(days=30)
    if period == Period.ALL:
        return None
    raise ValueError(f"unknown period {period!r}")


def mask_name(name: str) -> str:
    """张三 → 张*, Alice → A*: enough to recognise oneself, not enough to find someone."""
    name = name.strip()
    return f"{name[:1]}*" if name else "*"


@dataclass(frozen=True)
class Entry:
    rank: int
    distributor_id: int
    name: str  # masked, unless it is the viewer's own
    value: Decimal | int
    is_viewer: bool = False


@dataclass(frozen=True)
class Leaderboard:
    board: str
    period: str
    since: datetime | None
    top: list[Entry]
    viewer: Entry | None = None  # the viewer's own row (also when outside the top)
    viewer_value: Decimal | int | None = None
    extra: dict = field(default_factory=dict)


def _totals(*, merchant_id: int, board: str, since: datetime | None) -> QuerySet:
    """(``key``, ``total``) per distributor with a total above zero."""
    if board == Board.SALES:
        rows = (
            sales_lines(merchant_id=merchant_id, since=since)
            .order_by()
            .values(key=F("order__distributor"))
        )
        return rows.annotate(total=Sum("paid_amount")).filter(total__gt=0)
    if board == Board.COMMISSION:
        records = CommissionRecord.objects.filter(merchant_id=merchant_id).exclude(
            status=CommissionRecord.Status.CANCELLED
        )
        if since is not None:
            records = records.filter(created_at__gte=since)
        return (
            records.order_by()
            .values(key=F("beneficiary"))
            .annotate(total=Sum(F("amount") - F("reversed_amount")))
            .filter(total__gt=0)
        )
    if board == Board.RECRUITS:
        recruits = Distributor.objects.filter(merchant_id=merchant_id, parent__isnull=False)
        if since is not None:
            recruits = recruits.filter(joined_at__gte=since)
        return (
            recruits.order_by()
            .values(key=F("parent"))
            .annotate(total=Count("id"))
            .filter(total__gt=0)
        )
    raise ValueError(f"unknown board {board!r}")


def _top_rows(*, merchant_id: int, board: str, period: str, since: datetime | None) -> list:
    """[(rank, distributor_id, name, total)] of the top ``TOP_N``: two queries, cached."""
    key = f"leaderboard:{merchant_id}:{board}:{period}:{since.isoformat() if since else 'all'}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    totals = list(
        _totals(merchant_id=merchant_id, board=board, since=since).order_by("-total", "key")[:TOP_N]
    )
    names = {
        distributor.pk: distributor.user.display_name
        for distributor in Distributor.objects.filter(
            pk__in=[row["key"] for row in totals]
        ).select_related("user")
    }
    rows: list[tuple[int, int, str, Decimal | int]] = []
    for position, row in enumerate(totals):
        rank = position + 1
        if position and row["total"] == totals[position - 1]["total"]:
            rank = rows[-1][0]
        name = names.get(row["key"], "")
        rows.append((rank, row["key"], name, row["total"]))
    cache.set(key, rows, settings.FENXIAO_LEADERBOARD_CACHE_SECONDS)
    return rows


def leaderboard_get(
    *,
    merchant: Merchant,
    board: str = Board.DEFAULT,
    period: str = Period.DEFAULT,
    viewer: Distributor | None = None,
    now: datetime | None = None,
) -> Leaderboard:
    """The top ``TOP_N`` of ``board`` in ``period``, and the viewer's own rank (None = unranked)."""
    since = period_start(period, now=now)
    rows = _top_rows(merchant_id=merchant.pk, board=board, period=period, since=since)
    viewer_id = viewer.pk if viewer is not None else None
    top = [
        Entry(
            rank=rank,
            distributor_id=distributor_id,
            name=name if distributor_id == viewer_id else mask_name(name),
            value=total,
            is_viewer=distributor_id == viewer_id,
        )
        for rank, distributor_id, name, total in rows
    ]
    if viewer is None:
        return Leaderboard(board=board, period=period, since=since, top=top)
    own = next((entry for entry in top if entry.is_viewer), None)
    if own is not None:
        return Leaderboard(
            board=board, period=period, since=since, top=top, viewer=own, viewer_value=own.value
        )
    totals = _totals(merchant_id=merchant.pk, board=board, since=since)
    mine = next(iter(totals.filter(key=viewer.pk).values_list("total", flat=True)[:1]), None)
    zero = Decimal("0.00") if board != Board.RECRUITS else 0
    if mine is None:
        return Leaderboard(board=board, period=period, since=since, top=top, viewer_value=zero)
    ahead = totals.filter(total__gt=mine).count()
    own = Entry(
        rank=ahead + 1,
        distributor_id=viewer.pk,
        name=viewer.user.display_name,
        value=mine,
        is_viewer=True,
    )
    return Leaderboard(
        board=board, period=period, since=since, top=top, viewer=own, viewer_value=mine
    )
