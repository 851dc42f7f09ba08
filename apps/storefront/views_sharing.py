"""The distributor's sharing, team and leaderboard pages: posters (PNG), team, 排行榜."""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.distributors.models import Distributor
from apps.distributors.posters import Poster, poster_for_product, poster_for_store
from apps.distributors.selectors import distributor_upline
from apps.merchants.models import Merchant
from apps.programme.leaderboards import Board, Period, leaderboard_get, period_start
from apps.programme.team import TEAM_DEPTH, own_sales, team_members, team_summary

from .views import SignedInRequest, distributor_required, render_store, store_view

TEAM_MEMBERS_PER_PAGE = 20


def _choice(value: str | None, choices: list, default: str) -> str:
    return value if value is not None and value in {key for key, _label in choices} else default


def _png_response(poster: Poster) -> HttpResponse:
    response = HttpResponse(poster.png, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{poster.filename}"'
    response["Cache-Control"] = "private, max-age=600"
    return response


@require_GET
@store_view
@distributor_required
def product_poster(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor, product_id: int
) -> HttpResponse:
    poster = poster_for_product(distributor=distributor, product_id=product_id)
    if poster is None:
        raise Http404(_("No such product."))
    return _png_response(poster)


@require_GET
@store_view
@distributor_required
def store_poster(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    return _png_response(poster_for_store(distributor=distributor))


@require_GET
@store_view
@distributor_required
def team(request: SignedInRequest, merchant: Merchant, distributor: Distributor) -> HttpResponse:
    """Counts per level and the whole team; one level's members (``?level=``) with their sales
    in the period (``?period=``), recruits and team sizes, a page at a time; the upline."""
    period = _choice(request.GET.get("period"), Period.choices, Period.DEFAULT)
    try:
        level = int(request.GET.get("level", "1"))
    except ValueError:
        level = 1
    level = level if 1 <= level <= TEAM_DEPTH else 1
    since = period_start(period)
    summary = team_summary(distributor=distributor)
    members = team_members(distributor=distributor, relative_level=level, since=since)
    paginator = Paginator(members, TEAM_MEMBERS_PER_PAGE)
    paginator.__dict__["count"] = summary.level_counts[level]  # known already: no COUNT query
    page = paginator.get_page(request.GET.get("page"))
    return render_store(
        request,
        merchant,
        "storefront/distributor/team.html",
        {
            "distributor": distributor,
            "summary": summary,
            "team_size": summary.team_size,
            "level_counts": sorted(summary.level_counts.items()),
            "level": level,
            "period": period,
            "periods": Period.choices,
            "page": page,
            "own_sales": own_sales(distributor=distributor, since=since),
            "upline": distributor_upline(distributor=distributor),
        },
    )


@require_GET
@store_view
@distributor_required
def leaderboard(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    board = _choice(request.GET.get("board"), Board.choices, Board.DEFAULT)
    period = _choice(request.GET.get("period"), Period.choices, Period.DEFAULT)
    result = leaderboard_get(merchant=merchant, board=board, period=period, viewer=distributor)
    return render_store(
        request,
        merchant,
        "storefront/distributor/leaderboard.html",
        {
            "distributor": distributor,
            "leaderboard": result,
            "board": board,
            "period": period,
            "boards": Board.choices,
            "periods": Period.choices,
            "is_money": board != Board.RECRUITS,
        },
    )
