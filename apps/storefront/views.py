"""Storefront pages: catalogue, cart, checkout, orders and the distributor's pages.

Thin: every read goes through a selector and every write through a service. A store is resolved
from the URL's slug (unknown or inactive → 404) and every id in the URL is looked up inside that
store, so another merchant's ids behave as absent.
"""

import hashlib
import io
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import cast

import qrcode
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.commissions.selectors import (
    commission_records_for,
    commission_reversed_total,
)
from apps.core.client_ip import request_client_ip
from apps.core.errors import DomainError, NotFound
from apps.core.money import NotTwoPlaces, parse_two_places
from apps.dashboard.selectors import distributor_commission_daily
from apps.dashboard.services import share_visit_record
from apps.distributors.links import (
    coupon_path,
    coupon_share_url,
    join_path,
    join_url,
    micro_shop_url,
    qr_target_url,
    share_links,
)
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.models import Distributor
from apps.distributors.recruitment import distributor_signup
from apps.distributors.selectors import (
    distributor_for_user,
    programme_settings_for,
)
from apps.distributors.services import distributor_get_by_code
from apps.groupbuy.selectors import group_buys_for_product, seat_of_order
from apps.ledger.selectors import wallet_or_empty
from apps.marketing.selectors import coupons_on_offer
from apps.merchants.models import Merchant
from apps.merchants.selectors import merchant_get_active_by_slug, merchants_active
from apps.orders.models import Order
from apps.orders.selectors import cart_summary
from apps.orders.services import (
    Discounts,
    Recipient,
    cart_add_item,
    cart_remove_item,
    cart_set_quantity,
    order_cancel,
    order_confirm_receipt,
    order_get_for_customer,
    order_place_from_cart,
)
from apps.payments.providers import ProviderError, provider_get, providers_for_merchant
from apps.payments.services import payment_start
from apps.products.models import Sku

from . import selectors
from .forms import (
    AddToCartForm,
    CartQuantityForm,
    CheckoutForm,
    DiscountChoiceForm,
    DistributorJoinForm,
)
from .page_cache import cached_private_page, cached_store_page
from .referrals import referral_cookie_name, referral_land, referral_remember

RECORDS_PER_PAGE = 20
ORDERS_PER_PAGE = 20


class SignedInRequest(HttpRequest):
    """A request that passed ``store_login_required``: its user is a real ``User``."""

    user: User  # type: ignore[assignment]


def store_view(view: Callable) -> Callable:
    """Resolve ``slug`` to an active merchant (404 otherwise) and pass it as ``merchant``; land a
    visitor who came through a share link (``referrals``: bind, or remember the code)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        merchant = merchant_get_active_by_slug(slug=slug)
        if merchant is None:
            raise Http404(_("No such store."))
        if request.method == "GET" and request.GET.get("ref"):
            share_visit_record(
                merchant=merchant,
                invite_code=request.GET["ref"],
                device_id=request_device_id(request),
                path=request.path,
            )
        landing = referral_land(request, merchant)
        return referral_remember(view(request, merchant, *args, **kwargs), landing)

    return wrapper


def store_login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, merchant: Merchant, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, merchant, *args, **kwargs)

    return wrapper


def distributor_required(view: Callable) -> Callable:
    """Signed in and a distributor of this store; otherwise off to the join page."""

    @wraps(view)
    def wrapper(request: SignedInRequest, merchant: Merchant, *args, **kwargs) -> HttpResponse:
        distributor = distributor_for_user(merchant=merchant, user=request.user)
        if distributor is None:
            return redirect("storefront:distributor-join", slug=merchant.slug)
        return view(request, merchant, distributor, *args, **kwargs)

    return store_login_required(wrapper)


def render_store(
    request: HttpRequest, merchant: Merchant, template: str, context: dict | None = None, status=200
) -> HttpResponse:
    return render(request, template, {"merchant": merchant, **(context or {})}, status=status)


# --- Platform ---------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/home.html", {"stores": list(merchants_active())})


# --- Catalogue --------------------------------------------------------------------------------


def _customer_or_none(request: HttpRequest) -> User | None:
    """The signed-in visitor (their member price), or None: signed-out pages are shared through
    the page cache, which keeps only pages rendered for nobody in particular."""
    return cast(User, request.user) if request.user.is_authenticated else None


@require_GET
@cached_store_page(store_view)
def catalogue(request: HttpRequest, merchant: Merchant) -> HttpResponse:
    products = list(selectors.storefront_products(merchant=merchant))
    selectors.catalogue_prices_shown(
        merchant=merchant, customer=_customer_or_none(request), products=products
    )
    return render_store(request, merchant, "storefront/catalogue.html", {"products": products})


@cached_store_page(store_view)
def product_detail(request: HttpRequest, merchant: Merchant, product_id: int) -> HttpResponse:
    product = selectors.storefront_product(merchant=merchant, product_id=product_id)
    if product is None:
        raise Http404(_("No such product."))
    selectors.product_prices_shown(
        merchant=merchant, customer=_customer_or_none(request), product=product
    )
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.path)
        form = AddToCartForm(request.POST)
        if form.is_valid():
            try:
                cart_add_item(
                    merchant=merchant,
                    customer=cast(User, request.user),
                    sku_id=form.cleaned_data["sku"],
                    quantity=form.cleaned_data["quantity"],
                )
            except DomainError as error:
                field = "quantity" if error.code == "invalid_quantity" else "sku"
                form.add_error(field, error.message)
                status = error.status
            else:
                messages.success(request, _("Added to your cart."))
                return redirect("storefront:product", slug=merchant.slug, product_id=product.pk)
        else:
            status = 400
    elif request.method == "GET":
        skus: list[Sku] = getattr(product, "skus_on_sale", [])
        first = next((sku.pk for sku in skus if sku.available_stock > 0), None)
        form = AddToCartForm(initial={"sku": first, "quantity": 1})
    else:
        return HttpResponse(status=405)
    group_buys = group_buys_for_product(merchant=merchant, product_id=product.pk)
    return render_store(
        request,
        merchant,
        "storefront/product.html",
        {"product": product, "form": form, "group_buys": group_buys},
        status,
    )


# --- Cart and checkout ------------------------------------------------------------------------


@require_GET
@store_view
@store_login_required
def cart(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    return _render_cart(request, merchant)


def _cart_context(
    request: SignedInRequest, merchant: Merchant, discounts: Discounts | None = None
) -> dict:
    discounts = discounts or Discounts()
    error = None
    try:
        summary = cart_summary(
            merchant=merchant,
            customer=request.user,
            coupon=discounts.coupon,
            points=discounts.points,
        )
    except DomainError as refused:  # a chosen coupon or points that cannot be used: show why
        error = refused.message
        discounts = Discounts(points=0)
        summary = cart_summary(merchant=merchant, customer=request.user)
    priced = summary.priced
    return {
        "items": summary.items,
        "total": summary.total,
        "payable": summary.payable,
        "priced": priced,
        "savings": priced.savings() if priced else [],
        "discount_error": error,
        "chosen_coupon": "none"
        if discounts.coupon is None
        else (priced.coupon_grant_id if priced else None),
        "chosen_points": priced.points_used if priced else 0,
    }


def _render_cart(request: SignedInRequest, merchant: Merchant, status: int = 200) -> HttpResponse:
    return render_store(
        request, merchant, "storefront/cart.html", _cart_context(request, merchant), status
    )


@require_POST
@store_view
@store_login_required
def cart_update(request: SignedInRequest, merchant: Merchant, item_id: int) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a quantity between 1 and 999."))
        return _render_cart(request, merchant, status=400)
    try:
        cart_set_quantity(
            merchant=merchant,
            customer=request.user,
            item_id=item_id,
            quantity=form.cleaned_data["quantity"],
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
        return _render_cart(request, merchant, status=error.status)
    return redirect("storefront:cart", slug=merchant.slug)


@require_POST
@store_view
@store_login_required
def cart_remove(request: SignedInRequest, merchant: Merchant, item_id: int) -> HttpResponse:
    try:
        cart_remove_item(merchant=merchant, customer=request.user, item_id=item_id)
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, _("Removed from your cart."))
    return redirect("storefront:cart", slug=merchant.slug)


@store_view
@store_login_required
def checkout(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    status = 200
    choice = DiscountChoiceForm(request.POST if request.method == "POST" else request.GET)
    discounts = choice.discounts()
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                # The total the page showed: if prices changed since, nothing is placed.
                expected_total = _shown_total(request.POST.get("expected_total"))
                order = order_place_from_cart(
                    merchant=merchant,
                    customer=request.user,
                    recipient=Recipient(
                        name=data["recipient_name"],
                        phone=data["recipient_phone"],
                        address=data["shipping_address"],
                    ),
                    note=data["note"],
                    expected_total=expected_total,
                    discounts=discounts,
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                return redirect("storefront:order", slug=merchant.slug, order_id=order.pk)
        else:
            status = 400
    else:
        form = CheckoutForm(
            initial={
                "recipient_name": request.user.get_full_name(),
                "recipient_phone": request.user.phone,
            }
        )
    return render_store(
        request,
        merchant,
        "storefront/checkout.html",
        {"form": form, **_cart_context(request, merchant, discounts)},
        status,
    )


def _shown_total(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        return parse_two_places(raw)
    except NotTwoPlaces as error:
        raise DomainError(
            _("The page was changed outside the browser; reload it."), code="invalid_total"
        ) from error


# --- Orders -----------------------------------------------------------------------------------


@require_GET
@store_view
@store_login_required
def order_list(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    paginator = Paginator(
        selectors.customer_orders(merchant=merchant, customer=request.user), ORDERS_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render_store(request, merchant, "storefront/orders.html", {"page": page})


def _customer_order(request: SignedInRequest, merchant: Merchant, order_id: int) -> Order:
    try:
        return order_get_for_customer(merchant=merchant, customer=request.user, order_id=order_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _render_order(
    request: SignedInRequest, merchant: Merchant, order: Order, status: int = 200
) -> HttpResponse:
    details = selectors.order_details(order=order)
    confirming = (
        order.status == Order.Status.PENDING_PAYMENT
        and details["pending_payment"] is not None
        and request.GET.get("confirming") == "1"
    )
    return render_store(
        request,
        merchant,
        "storefront/order.html",
        {
            "order": order,
            "confirming": confirming,
            "Status": Order.Status,
            "payment_methods": providers_for_merchant(merchant_id=merchant.pk),
            "group_seat": seat_of_order(merchant=merchant, order_id=order.pk),
            **details,
        },
        status,
    )


@require_GET
@store_view
@store_login_required
def order_detail(request: SignedInRequest, merchant: Merchant, order_id: int) -> HttpResponse:
    return _render_order(request, merchant, _customer_order(request, merchant, order_id))


@require_POST
@store_view
@store_login_required
def order_pay(request: SignedInRequest, merchant: Merchant, order_id: int) -> HttpResponse:
    order = _customer_order(request, merchant, order_id)
    offered = providers_for_merchant(merchant_id=merchant.pk)
    provider = request.POST.get("provider") or (offered[0] if offered else "sandbox")
    if provider not in offered:
        messages.error(request, _("This payment method is not available."))
        return _render_order(request, merchant, order, status=400)
    try:
        payment = payment_start(
            merchant=merchant,
            customer=request.user,
            order_id=order.pk,
            provider=provider,
            client_ip=request_client_ip(request),
        )
        return redirect(provider_get(payment.provider).checkout_url(payment))
    except DomainError as error:
        messages.error(request, error.message)
        order.refresh_from_db()
        return _render_order(request, merchant, order, status=error.status)
    except ProviderError:
        messages.error(
            request, _("The payment provider did not answer. Please try again in a moment.")
        )
        return _render_order(request, merchant, order, status=503)


@require_POST
@store_view
@store_login_required
def order_cancel_view(request: SignedInRequest, merchant: Merchant, order_id: int) -> HttpResponse:
    order = _customer_order(request, merchant, order_id)
    try:
        cancelled = order_cancel(order=order, actor=request.user, reason="cancelled by customer")
    except DomainError as error:
        messages.error(request, error.message)
        return _render_order(request, merchant, order, status=error.status)
    if not cancelled:
        messages.error(request, _("This order changed meanwhile; it can no longer be cancelled."))
        order.refresh_from_db()
        return _render_order(request, merchant, order, status=409)
    messages.success(request, _("Order cancelled."))
    return redirect("storefront:order", slug=merchant.slug, order_id=order.pk)


@require_POST
@store_view
@store_login_required
def order_confirm(request: SignedInRequest, merchant: Merchant, order_id: int) -> HttpResponse:
    order = _customer_order(request, merchant, order_id)
    try:
        order_confirm_receipt(merchant=merchant, customer=request.user, order_id=order.pk)
    except DomainError as error:
        messages.error(request, error.message)
        order.refresh_from_db()
        return _render_order(request, merchant, order, status=error.status)
    messages.success(request, _("Thank you! The order is complete."))
    return redirect("storefront:order", slug=merchant.slug, order_id=order.pk)


# --- Distributor pages ------------------------------------------------------------------------


def _remembered_invite_code(request: HttpRequest, merchant: Merchant) -> str:
    return (
        request.GET.get("ref") or request.COOKIES.get(referral_cookie_name(merchant.slug)) or ""
    ).strip()


@store_view
@store_login_required
def distributor_join_view(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    if distributor_for_user(merchant=merchant, user=request.user) is not None:
        return redirect("storefront:distributor-earnings", slug=merchant.slug)
    if programme_settings_for(merchant=merchant).recruitment_mode != "everyone":
        return redirect("storefront:distributor-apply", slug=merchant.slug)
    status = 200
    inviter: Distributor | None = None
    if request.method == "POST":
        form = DistributorJoinForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["invite_code"].strip()
            try:
                distributor_signup(
                    merchant=merchant,
                    user=request.user,
                    invite_code=code or None,
                    ip=request_ip(request),
                    device=request_device_id(request),
                )
            except DomainError as error:
                form.add_error("invite_code", error.message)
                status = error.status
            else:
                messages.success(request, _("Welcome! You are now a distributor of this store."))
                return redirect("storefront:distributor-earnings", slug=merchant.slug)
        else:
            status = 400
    elif request.method == "GET":
        code = _remembered_invite_code(request, merchant)
        if code:
            try:
                inviter = distributor_get_by_code(merchant=merchant, code=code)
            except DomainError:
                inviter = None
        form = DistributorJoinForm(initial={"invite_code": inviter.invite_code if inviter else ""})
    else:
        return HttpResponse(status=405)
    return render_store(
        request,
        merchant,
        "storefront/distributor/join.html",
        {"form": form, "inviter": inviter},
        status,
    )


@require_GET
@store_view
@store_login_required
def distributor_earnings(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    # As ``distributor_required``, but the distributor comes with the wallet's fingerprint.
    found = selectors.distributor_earnings_state(merchant=merchant, user=request.user)
    if found is None:
        return redirect("storefront:distributor-join", slug=merchant.slug)
    distributor, state = found

    def render_page() -> HttpResponse:
        if state is None:
            wallet = wallet_or_empty(merchant_id=merchant.pk, distributor_id=distributor.pk)
            reversed_total = commission_reversed_total(distributor=distributor)
        else:
            wallet = state[0]
            reversed_total = wallet.reversed_sum or Decimal("0.00")  # type: ignore[attr-defined]
        paginator = Paginator(commission_records_for(distributor=distributor), RECORDS_PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        return render_store(
            request,
            merchant,
            "storefront/distributor/earnings.html",
            {
                "distributor": distributor,
                "wallet": wallet,
                "page": page,
                "reversed_total": reversed_total,
                "commission_days": distributor_commission_daily(distributor_id=distributor.pk),
            },
        )

    if state is None:
        return render_page()
    # The page is the distributor's own and changes only when their ledger or records do (the
    # fingerprint), or with the day (the 30-day chart): kept per distributor, page and language.
    key = ":".join(
        (
            "earnings-page",
            str(distributor.pk),
            distributor.invite_code,
            getattr(request, "LANGUAGE_CODE", ""),
            timezone.localdate().isoformat(),
            hashlib.blake2b(
                f"{request.META.get('QUERY_STRING', '')}\x00{state[1]}".encode(), digest_size=12
            ).hexdigest(),
        )
    )
    return cached_private_page(request, key=key, render=render_page)


@require_GET
@store_view
@distributor_required
def distributor_share(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    store, *products = share_links(merchant=merchant, invite_code=distributor.invite_code)
    links = [
        {"label": _("Store home"), "path": store.path, "url": store.url, "test_id": "share-store"}
    ] + [
        {
            "label": link.name,
            "path": link.path,
            "url": link.url,
            "poster_url": link.poster_url,
            "product_id": link.product_id,
            "test_id": f"share-product-{link.product_id}",
        }
        for link in products
    ]
    return render_store(
        request,
        merchant,
        "storefront/distributor/share.html",
        {
            "distributor": distributor,
            "links": links,
            "join_url": join_url(merchant=merchant, invite_code=distributor.invite_code),
            "join_path": join_path(merchant=merchant),
            "micro_shop_url": micro_shop_url(
                merchant=merchant, invite_code=distributor.invite_code
            ),
            "coupon_links": [
                {
                    "coupon": coupon,
                    "path": coupon_path(merchant=merchant, coupon_id=coupon.pk),
                    "url": coupon_share_url(
                        merchant=merchant, coupon_id=coupon.pk, invite_code=distributor.invite_code
                    ),
                }
                for coupon in coupons_on_offer(merchant=merchant, shareable=True)
            ],
        },
    )


# Longer targets make QR codes too dense to scan. The URL's own cap matters when percent-encoding
# inflates a short target (a non-ASCII query): qrcode's largest code holds 2,331 bytes.
QR_TARGET_MAX_LENGTH = 512
QR_URL_MAX_BYTES = 2048


@require_GET
@store_view
@distributor_required
def distributor_qr(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    target = request.GET.get("target", "")
    if len(target) > QR_TARGET_MAX_LENGTH:
        return HttpResponseBadRequest(
            _("The QR code target may be at most %(limit)d characters long.")
            % {"limit": QR_TARGET_MAX_LENGTH},
            content_type="text/plain",
        )
    url = qr_target_url(merchant=merchant, target=target, invite_code=distributor.invite_code)
    if url is None:
        return HttpResponseBadRequest(
            _("The QR code target must be a page of this store."), content_type="text/plain"
        )
    if len(url.encode()) > QR_URL_MAX_BYTES:
        return HttpResponseBadRequest(
            _("The QR code target is too long to fit in a QR code."), content_type="text/plain"
        )
    image = qrcode.make(url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
