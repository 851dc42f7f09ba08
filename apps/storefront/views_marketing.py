"""The marketing centre and membership on the storefront: the coupon centre, a coupon's page (the
target of a distributor's coupon link, ``…/coupons/<id>/?ref=CODE``) and "my membership".

A coupon link is a store page like any other: ``store_view`` lands the visitor (binds a signed-in
one through the programme's ``customer_bind``, keeps the code in a cookie for a signed-out one),
and the claim posts back to the same URL, so a visitor who signs up on the way comes back through
the link and is bound by the same rules before claiming. The grant then records the distributor.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError
from apps.distributors.services import distributor_get_by_code
from apps.marketing import selectors as marketing
from apps.marketing.services import coupon_claim
from apps.members.selectors import member_profile, points_history
from apps.merchants.models import Merchant

from .views import (
    SignedInRequest,
    _customer_or_none,
    _remembered_invite_code,
    render_store,
    store_login_required,
    store_view,
)

POINTS_SHOWN = 50


@require_GET
@store_view
def coupon_centre(request: HttpRequest, merchant: Merchant) -> HttpResponse:
    coupons = list(marketing.coupons_on_offer(merchant=merchant))
    claimed = marketing.claimed_counts(merchant=merchant, customer=_customer_or_none(request))
    for coupon in coupons:
        coupon.claimed_by_me = claimed.get(coupon.pk, 0)  # type: ignore[attr-defined]
        coupon.left = coupon.total_quantity - coupon.issued_count  # type: ignore[attr-defined]
    return render_store(
        request, merchant, "storefront/marketing/coupons.html", {"coupons": coupons}
    )


@require_POST
@store_view
@store_login_required
def coupon_centre_claim(
    request: SignedInRequest, merchant: Merchant, coupon_id: int
) -> HttpResponse:
    try:
        coupon_claim(merchant=merchant, customer=request.user, coupon_id=coupon_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Coupon claimed: it is in “My membership”."))
    return redirect("storefront:coupons", slug=merchant.slug)


@store_view
def coupon_link(request: HttpRequest, merchant: Merchant, coupon_id: int) -> HttpResponse:
    """A coupon's own page, opened from the coupon centre or from a distributor's coupon link."""
    coupon = marketing.coupon_on_offer(merchant=merchant, coupon_id=coupon_id)
    if coupon is None:
        raise Http404(_("No such coupon."))
    code = _remembered_invite_code(request, merchant)
    distributor = None
    if code and coupon.distributor_shareable:
        try:
            distributor = distributor_get_by_code(merchant=merchant, code=code)
        except DomainError:
            distributor = None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            coupon_claim(
                merchant=merchant,
                customer=request.user,  # type: ignore[arg-type]
                coupon_id=coupon.pk,
                distributor_code=distributor.invite_code if distributor else None,
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(request.get_full_path())
        messages.success(request, _("Coupon claimed: it is in “My membership”."))
        return redirect("storefront:membership", slug=merchant.slug)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    claimed = marketing.claimed_counts(merchant=merchant, customer=_customer_or_none(request))
    return render_store(
        request,
        merchant,
        "storefront/marketing/coupon.html",
        {
            "coupon": coupon,
            "distributor": distributor,
            "claimed_by_me": claimed.get(coupon.pk, 0),
            "sold_out": coupon.issued_count >= coupon.total_quantity,
            "claimable_here": coupon.claimable or distributor is not None,
        },
    )


@require_GET
@store_view
@store_login_required
def membership(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    """My membership: level, discount, progress to the next level, points and my coupons."""
    profile = member_profile(merchant_id=merchant.pk, user_id=request.user.pk)
    grants = list(marketing.customer_coupons(merchant=merchant, customer=request.user))
    by_state: dict[str, list] = {state: [] for state, _label in marketing.GRANT_STATES}
    for grant in grants:
        by_state[marketing.grant_state(grant)].append(grant)
    return render_store(
        request,
        merchant,
        "storefront/marketing/membership.html",
        {
            "profile": profile,
            "points": list(
                points_history(merchant_id=merchant.pk, user_id=request.user.pk)[:POINTS_SHOWN]
            ),
            "coupon_states": [
                (state, label, by_state[state]) for state, label in marketing.GRANT_STATES
            ],
        },
    )
