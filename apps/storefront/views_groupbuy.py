"""Group buying pages (拼团): a campaign (open a group), a group (share it, join it). Opening
and joining place an order at the group price and send the buyer to pay it; a refusal (a full or
closed group, over the limit) shows on the page with its 4xx status, and nothing is written."""

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.distributors.selectors import distributor_for_user
from apps.groupbuy import selectors as groupbuy_selectors
from apps.groupbuy.models import Group, GroupBuy, GroupMember
from apps.groupbuy.services import group_join, group_open
from apps.merchants.models import Merchant
from apps.orders.services import Recipient
from apps.programme.leaderboards import mask_name

from .forms import GroupBuyForm
from .views import render_store, store_view


def _campaign(merchant: Merchant, campaign_id: int) -> GroupBuy:
    campaign = (
        groupbuy_selectors.group_buys_running(merchant=merchant).filter(pk=campaign_id).first()
    )
    if campaign is None:
        raise Http404(_("No such group buy."))
    return campaign


def _form(request: HttpRequest) -> GroupBuyForm:
    if request.method == "POST":
        return GroupBuyForm(request.POST)
    user = request.user
    initial: dict[str, object] = {"quantity": 1}
    if user.is_authenticated:
        initial |= {"recipient_name": user.get_full_name(), "recipient_phone": user.phone}
    return GroupBuyForm(initial=initial)


def _seat_from_form(
    request: HttpRequest, merchant: Merchant, take: Callable[[int, Recipient], GroupMember]
) -> tuple[GroupBuyForm, HttpResponse | None, int]:
    """(form, response, status): on a valid POST, ``take`` the seat and answer with the way to
    pay its order; a refusal goes on the form with its status; GET shows the form."""
    if request.method not in ("GET", "POST"):
        return _form(request), HttpResponse(status=405), 405
    if request.method == "POST" and not request.user.is_authenticated:
        return _form(request), redirect_to_login(request.path), 302
    form = _form(request)
    if request.method == "GET":
        return form, None, 200
    if not form.is_valid():
        return form, None, 400
    try:
        member = take(form.cleaned_data["quantity"], _recipient(form.cleaned_data))
    except DomainError as error:
        form.add_error(None, error.message)
        return form, None, error.status
    return form, redirect("storefront:order", slug=merchant.slug, order_id=member.order_id), 302


def _recipient(data: dict) -> Recipient:
    return Recipient(
        name=data["recipient_name"], phone=data["recipient_phone"], address=data["shipping_address"]
    )


def _share_url(request: HttpRequest, merchant: Merchant, path: str) -> str:
    """The page's address to share; a distributor's carries their code (``?ref=``)."""
    url = request.build_absolute_uri(path)
    distributor = distributor_for_user(merchant=merchant, user=request.user)  # type: ignore[arg-type]
    if distributor is not None and distributor.status == distributor.Status.ACTIVE:
        url += f"?ref={distributor.invite_code}"
    return url


@store_view
def campaign_detail(request: HttpRequest, merchant: Merchant, campaign_id: int) -> HttpResponse:
    """A group buy: its price, size and time limit, the groups open to join, and "open a group"."""
    campaign = _campaign(merchant, campaign_id)
    form, done, status = _seat_from_form(
        request,
        merchant,
        lambda quantity, recipient: group_open(
            merchant=merchant,
            customer=request.user,  # type: ignore[arg-type]
            campaign_id=campaign.pk,
            quantity=quantity,
            recipient=recipient,
        ),
    )
    if done is not None:
        return done
    groups = list(
        groupbuy_selectors.joinable_groups(merchant=merchant).filter(campaign=campaign)[
            : groupbuy_selectors.OPEN_GROUPS_SHOWN
        ]
    )
    return render_store(
        request,
        merchant,
        "storefront/groupbuy/campaign.html",
        {"campaign": campaign, "groups": _shown(groups, request), "form": form},
        status,
    )


def _shown(groups: list[Group], request: HttpRequest) -> list[Group]:
    for group in groups:
        name = group.leader.get_full_name() or group.leader.username
        group.leader_name = name if group.leader_id == request.user.pk else mask_name(name)  # type: ignore[attr-defined]
    return groups


@store_view
def group_detail(request: HttpRequest, merchant: Merchant, group_id: int) -> HttpResponse:
    """A group to share and join: seats left, time left, the members (names masked)."""
    group = groupbuy_selectors.group_for_store(merchant=merchant, group_id=group_id)
    if group is None:
        raise Http404(_("No such group."))
    form, done, status = _seat_from_form(
        request,
        merchant,
        lambda quantity, recipient: group_join(
            merchant=merchant,
            customer=request.user,  # type: ignore[arg-type]
            group_id=group.pk,
            quantity=quantity,
            recipient=recipient,
        ),
    )
    if done is not None:
        return done
    viewer: User | None = request.user if request.user.is_authenticated else None  # type: ignore[assignment]
    seated: list[GroupMember] = getattr(group, "seated", [])
    mine = next((member for member in seated if viewer and member.customer_id == viewer.pk), None)
    members = [
        {
            "name": member.customer.username
            if mine is member
            else mask_name(member.customer.get_full_name() or member.customer.username),
            "is_leader": member.is_leader,
            "paid": member.status == member.Status.PAID,
        }
        for member in seated
    ]
    now = timezone.now()
    joinable = (
        group.status == Group.Status.OPEN
        and group.deadline is not None
        and group.deadline > now
        and group.seats_taken < group.size
        and mine is None
    )
    path = reverse("storefront:group", kwargs={"slug": merchant.slug, "group_id": group.pk})
    return render_store(
        request,
        merchant,
        "storefront/groupbuy/group.html",
        {
            "group": group,
            "campaign": group.campaign,
            "members": members,
            "empty_seats": range(max(group.size - len(seated), 0)),
            "mine": mine,
            "joinable": joinable,
            "share_url": _share_url(request, merchant, path),
            "Status": Group.Status,
            "form": form,
        },
        status,
    )
