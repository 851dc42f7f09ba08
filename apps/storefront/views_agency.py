"""Agency mode (差价) pages: a distributor's micro-shop (微店) and their "my shop" price sheet.

The micro-shop (``/s/<store>/m/<invite code>/``) shows the store's products at the distributor's
resale prices in force; adding to the cart from it records the shop on the cart line, and the order
is priced from the shop when it is placed (never from anything the request says about prices).
"""

from typing import cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.distributors.agency import (
    distributor_price_clear,
    distributor_price_set,
    micro_shop_price,
    micro_shop_products,
    shop_sku_rows,
)
from apps.distributors.models import Distributor
from apps.distributors.selectors import programme_settings_for
from apps.distributors.services import distributor_get_by_code
from apps.merchants.models import Merchant
from apps.orders.services import cart_add_item
from apps.products.models import Sku

from . import selectors
from .forms import AddToCartForm, ResalePriceForm
from .views import SignedInRequest, distributor_required, render_store, store_view


def _shop(merchant: Merchant, code: str) -> Distributor:
    """The active distributor with this invite code in this store; anything else is a 404."""
    try:
        return distributor_get_by_code(merchant=merchant, code=code)
    except DomainError as error:
        raise Http404(error.message) from error


@require_GET
@store_view
def micro_shop(request, merchant: Merchant, code: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    shop = _shop(merchant, code)
    return render_store(
        request,
        merchant,
        "storefront/agency/micro_shop.html",
        {"shop": shop, "products": micro_shop_products(merchant=merchant, shop=shop)},
    )


@store_view
def micro_shop_product(  # type: ignore[no-untyped-def]
    request, merchant: Merchant, code: str, product_id: int
) -> HttpResponse:
    shop = _shop(merchant, code)
    product = selectors.storefront_product(merchant=merchant, product_id=product_id)
    if product is None:
        raise Http404(_("No such product."))
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.path)
        # Only the SKU and the quantity are read: a price in the request is never looked at.
        form = AddToCartForm(request.POST)
        if form.is_valid():
            try:
                cart_add_item(
                    merchant=merchant,
                    customer=cast(User, request.user),
                    sku_id=form.cleaned_data["sku"],
                    quantity=form.cleaned_data["quantity"],
                    shop_code=shop.invite_code,
                )
            except DomainError as error:
                field = "quantity" if error.code == "invalid_quantity" else "sku"
                form.add_error(field, error.message)
                status = error.status
            else:
                messages.success(request, _("Added to your cart."))
                return redirect(
                    "storefront:micro-shop-product",
                    slug=merchant.slug,
                    code=shop.invite_code,
                    product_id=product.pk,
                )
        else:
            status = 400
    elif request.method == "GET":
        skus: list[Sku] = getattr(product, "skus_on_sale", [])
        first = next((sku.pk for sku in skus if sku.available_stock > 0), None)
        form = AddToCartForm(initial={"sku": first, "quantity": 1})
    else:
        return HttpResponse(status=405)
    micro_shop_price(merchant=merchant, shop=shop, products=[product])
    return render_store(
        request,
        merchant,
        "storefront/agency/product.html",
        {"shop": shop, "product": product, "form": form},
        status,
    )


@store_view
@distributor_required
def my_shop(request: SignedInRequest, merchant: Merchant, distributor: Distributor) -> HttpResponse:
    """我的小店: set a resale price per SKU within the allowed range, with the margin shown."""
    status = 200
    errors: dict[int, str] = {}
    if request.method == "POST":
        form = ResalePriceForm(request.POST)
        if not form.is_valid():
            return HttpResponse(_("Choose a SKU."), status=400, content_type="text/plain")
        sku_id = form.cleaned_data["sku"]
        try:
            if form.cleaned_data["clear"]:
                distributor_price_clear(distributor=distributor, sku_id=sku_id)
            else:
                distributor_price_set(
                    distributor=distributor, sku_id=sku_id, price=form.cleaned_data["price"]
                )
        except DomainError as error:
            if error.status == 404:
                raise Http404(error.message) from error
            errors[sku_id] = error.message
            status = error.status
        else:
            messages.success(request, _("Your price is saved."))
            return redirect("storefront:distributor-shop", slug=merchant.slug)
    elif request.method != "GET":
        return HttpResponse(status=405)
    skus = list(
        Sku.objects.filter(merchant=merchant, is_active=True, product__is_active=True)
        .select_related("product")
        .order_by("product__sort_order", "product_id", "id")
    )
    rows = shop_sku_rows(distributor=distributor, skus=skus)
    return render_store(
        request,
        merchant,
        "storefront/agency/my_shop.html",
        {
            "distributor": distributor,
            "rows": [{"row": row, "error": errors.get(row.sku.pk)} for row in rows],
            "agency_enabled": programme_settings_for(merchant=merchant).agency_enabled,
            "submitted": request.POST if request.method == "POST" else None,
        },
        status,
    )
