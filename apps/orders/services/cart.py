"""The customer's cart in one store: add, change and remove lines. No price is stored: a line is
priced when read (``apps.orders.selectors``) and when placed (``placement``)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.merchants.models import Merchant

from ..models import Cart, CartItem
from .line_rules import check_quantity, shop_of, sku_for_sale


def cart_get_or_create(*, merchant: Merchant, customer: User) -> Cart:
    cart = Cart.objects.filter(merchant=merchant, customer=customer).first()
    if cart is not None:
        return cart
    Cart.objects.bulk_create([Cart(merchant=merchant, customer=customer)], ignore_conflicts=True)
    return Cart.objects.get(merchant=merchant, customer=customer)


def cart_add_item(
    *,
    merchant: Merchant,
    customer: User,
    sku_id: int,
    quantity: int,
    shop_code: str | None = None,
) -> CartItem:
    """Add ``quantity`` of a SKU (added to what is already in the cart).

    ``shop_code``: the invite code of the micro-shop it was added from (unknown → NotFound). The
    line records the shop of its latest addition (None from the plain store): one price per line.
    No price is ever taken from the request: it is worked out from the shop when read and placed.
    """
    check_quantity(quantity)
    sku = sku_for_sale(merchant=merchant, sku_id=sku_id)
    shop = shop_of(merchant=merchant, shop_code=shop_code)
    cart = cart_get_or_create(merchant=merchant, customer=customer)
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(cart=cart, sku=sku).first()
        if item is None:
            try:
                with transaction.atomic():
                    return CartItem.objects.create(
                        merchant=merchant,
                        cart=cart,
                        sku=sku,
                        quantity=quantity,
                        agency_distributor=shop,
                    )
            except IntegrityError:
                item = CartItem.objects.select_for_update().get(cart=cart, sku=sku)
        item.quantity = check_quantity(item.quantity + quantity)
        item.agency_distributor = shop
        item.save(update_fields=["quantity", "agency_distributor"])
        return item


def cart_set_quantity(
    *, merchant: Merchant, customer: User, item_id: int, quantity: int
) -> CartItem:
    check_quantity(quantity)
    item = CartItem.objects.filter(merchant=merchant, cart__customer=customer, pk=item_id).first()
    if item is None:
        raise NotFound(_("This item is not in your cart."), code="unknown_cart_item")
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, merchant: Merchant, customer: User, item_id: int) -> None:
    deleted, _unused = CartItem.objects.filter(
        merchant=merchant, cart__customer=customer, pk=item_id
    ).delete()
    if not deleted:
        raise NotFound(_("This item is not in your cart."), code="unknown_cart_item")
