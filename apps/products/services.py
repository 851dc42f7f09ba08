"""The catalogue: products and their SKUs, always within one merchant.

Stock is never written as part of an edit: orders reserve it concurrently (``stock = stock - n``),
so a staff member's form or request that was read before a sale would put the sold units back.
Stock changes go through ``sku_adjust_stock`` (relative, applied on top of whatever was sold
meanwhile) or ``sku_set_stock`` (a compare-and-swap from the value the caller saw).
"""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import NotTwoPlaces, parse_two_places
from apps.merchants.models import Merchant
from apps.suppliers.models import SupplyProduct, SupplySku

from .models import Product, Sku
from .versions import catalogue_changed

PRODUCT_FIELDS = frozenset({"name", "description", "image", "is_active", "sort_order"})
# ``stock`` is deliberately absent: see the module docstring.
SKU_FIELDS = frozenset(
    {"product_id", "name", "code", "price", "is_active", "min_resale_price", "max_resale_price"}
)
MAX_PRICE = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
MAX_STOCK = 2_147_483_647  # the stock column is a PostgreSQL integer


# --- validation -------------------------------------------------------------------------------


def _clean_name(value: Any, *, max_length: int) -> str:
    name = str(value).strip() if value is not None else ""
    if not name:
        raise DomainError(_("Give it a name."), code="name_required")
    if len(name) > max_length:
        raise DomainError(
            _("The name is longer than %(max)d characters.") % {"max": max_length},
            code="name_too_long",
        )
    return name


def _clean_code(value: Any) -> str:
    code = str(value).strip() if value is not None else ""
    if not code:
        raise DomainError(_("Give the SKU a code."), code="sku_code_required")
    if len(code) > Sku._meta.get_field("code").max_length:  # type: ignore[operator]
        raise DomainError(_("The SKU code is too long."), code="sku_code_too_long")
    return code


def _clean_price(value: Any) -> Decimal:
    try:
        price = parse_two_places(value)
    except NotTwoPlaces as error:
        if error.is_number:
            raise DomainError(
                _("A price has at most two decimal places."), code="invalid_price"
            ) from error
        raise DomainError(
            _("A price is a decimal amount such as 12.50."), code="invalid_price"
        ) from error
    if price <= 0:
        raise DomainError(_("The price must be more than 0."), code="invalid_price")
    if price > MAX_PRICE:
        raise DomainError(_("The price is too large."), code="invalid_price")
    return price


def _clean_bound(value: Any) -> Decimal | None:
    """A resale floor or ceiling: empty (None or "") means no bound."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _clean_price(value)


def _check_price_bounds(*, price: Decimal, floor: Decimal | None, ceiling: Decimal | None) -> None:
    """Price control (控价): floor ≤ ceiling, and the store's own price within them, so that nobody
    (the store included) sells below the floor or above the ceiling."""
    if floor is not None and ceiling is not None and floor > ceiling:
        raise DomainError(
            _("The resale price floor (¥%(floor)s) is above the ceiling (¥%(ceiling)s).")
            % {"floor": floor, "ceiling": ceiling},
            code="floor_above_ceiling",
        )
    if floor is not None and price < floor:
        raise DomainError(
            _("The price (¥%(price)s) is below the resale price floor (¥%(floor)s).")
            % {"price": price, "floor": floor},
            code="price_below_floor",
        )
    if ceiling is not None and price > ceiling:
        raise DomainError(
            _("The price (¥%(price)s) is above the resale price ceiling (¥%(ceiling)s).")
            % {"price": price, "ceiling": ceiling},
            code="price_above_ceiling",
        )


def _check_supply_floor(*, sku: Sku, price: Decimal) -> None:
    """A picked SKU is never priced below its floor (the supplier's minimum or the money floor)."""
    if sku.supply_sku_id and sku.supply_floor is not None and price < sku.supply_floor:
        raise DomainError(
            _(
                "The price (¥%(price)s) is below ¥%(floor)s, the lowest this supplied item may "
                "sell at (the supplier's minimum retail price, or its supply price plus the most "
                "commission and the platform fee can take)."
            )
            % {"price": price, "floor": sku.supply_floor},
            code="price_below_supply_floor",
        )


def _refuse_supplied_stock(sku: Sku) -> None:
    if sku.supply_sku_id:
        raise DomainError(
            _("The supplier keeps the stock of a supplied item; it cannot be changed here."),
            code="supplied_stock",
        )


def _clean_stock(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(_("Stock is a whole number."), code="invalid_stock")
    if value < 0:
        raise DomainError(_("Stock cannot be negative."), code="invalid_stock")
    if value > MAX_STOCK:
        raise DomainError(_("Stock is at most %(max)d.") % {"max": MAX_STOCK}, code="invalid_stock")
    return value


def _check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))} here")


def _product_of(merchant: Merchant, product_id: int) -> Product:
    product = Product.objects.filter(merchant=merchant, pk=product_id).first()
    if product is None:
        raise NotFound(_("No product with id %(pk)s.") % {"pk": product_id}, code="unknown_product")
    return product


def _sku_not_found(sku_id: int) -> NotFound:
    return NotFound(_("No SKU with id %(pk)s.") % {"pk": sku_id}, code="unknown_sku")


def _code_taken(code: str) -> Conflict:
    return Conflict(
        _("Another SKU of this store already has the code “%(code)s”.") % {"code": code},
        code="sku_code_taken",
    )


# --- products ---------------------------------------------------------------------------------


def product_create(
    *,
    merchant: Merchant,
    name: str,
    description: str = "",
    image: Any = None,
    is_active: bool = True,
    sort_order: int = 0,
) -> Product:
    product = Product(
        merchant=merchant,
        name=_clean_name(name, max_length=Product._meta.get_field("name").max_length or 0),
        description=description or "",
        is_active=is_active,
        sort_order=sort_order,
    )
    if image:
        product.image = image
    product.save()
    catalogue_changed(merchant_id=merchant.pk)
    return product


def product_update(*, merchant: Merchant, product_id: int, **fields: Any) -> Product:
    """Change the given fields of one of the merchant's products (and only those columns)."""
    _check_fields(fields, PRODUCT_FIELDS)
    if "name" in fields:
        fields["name"] = _clean_name(
            fields["name"], max_length=Product._meta.get_field("name").max_length or 0
        )
    if "description" in fields:
        fields["description"] = fields["description"] or ""
    product = _product_of(merchant, product_id)
    for name, value in fields.items():
        setattr(product, name, value)
    if fields:
        product.save(update_fields=list(fields))
        catalogue_changed(merchant_id=merchant.pk)
    return product


def product_delete(*, merchant: Merchant, product_id: int) -> None:
    product = _product_of(merchant, product_id)
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError as error:
        raise Conflict(
            _("This product has SKUs or orders; take it off sale instead."), code="protected"
        ) from error
    catalogue_changed(merchant_id=merchant.pk)


# --- SKUs -------------------------------------------------------------------------------------


def sku_create(
    *,
    merchant: Merchant,
    product_id: int,
    name: str,
    code: str,
    price: Decimal | int | str,
    stock: int = 0,
    is_active: bool = True,
    min_resale_price: Decimal | int | str | None = None,
    max_resale_price: Decimal | int | str | None = None,
) -> Sku:
    """A SKU of one of the merchant's products; its code is unique within the merchant."""
    sku = Sku(
        merchant=merchant,
        name=_clean_name(name, max_length=Sku._meta.get_field("name").max_length or 0),
        code=_clean_code(code),
        price=_clean_price(price),
        stock=_clean_stock(stock),
        is_active=is_active,
        min_resale_price=_clean_bound(min_resale_price),
        max_resale_price=_clean_bound(max_resale_price),
    )
    _check_price_bounds(price=sku.price, floor=sku.min_resale_price, ceiling=sku.max_resale_price)
    sku.product = _product_of(merchant, product_id)
    if Sku.objects.filter(merchant=merchant, code=sku.code).exists():
        raise _code_taken(sku.code)
    try:
        with transaction.atomic():
            sku.save()
    except IntegrityError as error:  # a concurrent request took the same code
        raise _code_taken(sku.code) from error
    catalogue_changed(merchant_id=merchant.pk)
    return sku


def sku_update(*, merchant: Merchant, sku_id: int, **fields: Any) -> Sku:
    """Change the given fields (not stock) of one of the merchant's SKUs, writing only those."""
    _check_fields(fields, SKU_FIELDS)
    if "name" in fields:
        fields["name"] = _clean_name(
            fields["name"], max_length=Sku._meta.get_field("name").max_length or 0
        )
    if "code" in fields:
        fields["code"] = _clean_code(fields["code"])
    if "price" in fields:
        fields["price"] = _clean_price(fields["price"])
    for bound in ("min_resale_price", "max_resale_price"):
        if bound in fields:
            fields[bound] = _clean_bound(fields[bound])
    with transaction.atomic():
        # Locked: order placement reads the price and bounds under this same row lock, so an order
        # is priced either wholly before or wholly after this change.
        sku = Sku.objects.select_for_update().filter(merchant=merchant, pk=sku_id).first()
        if sku is None:
            raise _sku_not_found(sku_id)
        return _sku_apply_update(merchant=merchant, sku=sku, fields=fields)


def _sku_apply_update(*, merchant: Merchant, sku: Sku, fields: dict[str, Any]) -> Sku:
    _check_price_bounds(
        price=fields.get("price", sku.price),
        floor=fields.get("min_resale_price", sku.min_resale_price),
        ceiling=fields.get("max_resale_price", sku.max_resale_price),
    )
    if sku.supply_sku_id:
        if "price" in fields or fields.get("is_active"):
            _check_supply_floor(sku=sku, price=fields.get("price", sku.price))
        if fields.get("is_active") and not _supply_sellable(sku.supply_sku_id):
            raise DomainError(
                _("The supplier is not selling this item now."), code="supply_unavailable"
            )
        if sku.supply_hold and (
            fields.get("is_active") or ("price" in fields and "is_active" not in fields)
        ):
            # Priced again at or above the floor: back on sale.
            fields.update(supply_hold=False, is_active=True)
    if "product_id" in fields:
        sku.product = _product_of(merchant, fields.pop("product_id"))
        fields["product"] = sku.product
    if (
        "code" in fields
        and Sku.objects.filter(merchant=merchant, code=fields["code"]).exclude(pk=sku.pk).exists()
    ):
        raise _code_taken(fields["code"])
    for name, value in fields.items():
        setattr(sku, name, value)
    if fields:
        try:
            with transaction.atomic():
                sku.save(update_fields=list(fields))
        except IntegrityError as error:
            raise _code_taken(fields["code"]) from error
        catalogue_changed(merchant_id=merchant.pk)
    return sku


def sku_adjust_stock(*, merchant: Merchant, sku_id: int, delta: int) -> int:
    """Add ``delta`` (negative to remove) to the stock as it is now; returns the new stock.

    Applied in the database on top of whatever orders reserved meanwhile, so no sale is lost.
    Refused (Conflict) when it would take the stock below zero, and (DomainError) when ``delta`` or
    the result would not fit the stock column.
    """
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise DomainError(_("Stock is a whole number."), code="invalid_stock")
    supplied = Sku.objects.filter(merchant=merchant, pk=sku_id, supply_sku__isnull=False).first()
    if supplied is not None:
        _refuse_supplied_stock(supplied)
    if abs(delta) > MAX_STOCK:
        raise DomainError(
            _("Stock changes by at most %(max)d at a time.") % {"max": MAX_STOCK},
            code="invalid_stock",
        )
    skus = Sku.objects.filter(merchant=merchant, pk=sku_id)
    fits = skus.filter(stock__gte=-delta, stock__lte=MAX_STOCK - delta)
    if delta and fits.update(stock=F("stock") + delta) == 0:
        if not skus.exists():
            raise _sku_not_found(sku_id)
        if delta > 0:
            raise DomainError(
                _("Stock cannot exceed %(max)d.") % {"max": MAX_STOCK}, code="invalid_stock"
            )
        raise Conflict(
            _("Only %(stock)d in stock: cannot remove %(count)d.")
            % {"stock": skus.values_list("stock", flat=True).get(), "count": -delta},
            code="insufficient_stock",
        )
    stock = skus.values_list("stock", flat=True).first()
    if stock is None:
        raise _sku_not_found(sku_id)
    if delta:
        catalogue_changed(merchant_id=merchant.pk)
    return stock


def sku_set_stock(*, merchant: Merchant, sku_id: int, expected: int, new: int) -> int:
    """Set the stock to ``new`` if it is still ``expected`` (what the caller saw).

    If an order reserved stock since, nothing is written and Conflict says so: the caller decides
    again from the current figure rather than putting the sold units back.
    """
    new = _clean_stock(new)
    skus = Sku.objects.filter(merchant=merchant, pk=sku_id)
    supplied = skus.filter(supply_sku__isnull=False).first()
    if supplied is not None:
        _refuse_supplied_stock(supplied)
    if skus.filter(stock=expected).update(stock=new) == 1:
        catalogue_changed(merchant_id=merchant.pk)
        return new
    current = skus.values_list("stock", flat=True).first()
    if current is None:
        raise _sku_not_found(sku_id)
    raise Conflict(
        _("The stock changed to %(stock)d meanwhile (orders were placed); nothing was changed.")
        % {"stock": current},
        code="stock_changed",
    )


def sku_delete(*, merchant: Merchant, sku_id: int) -> None:
    sku = Sku.objects.filter(merchant=merchant, pk=sku_id).first()
    if sku is None:
        raise _sku_not_found(sku_id)
    try:
        with transaction.atomic():
            sku.delete()
    except ProtectedError as error:
        raise Conflict(
            _("This SKU has been ordered; take it off sale instead."), code="protected"
        ) from error
    catalogue_changed(merchant_id=merchant.pk)


# --- stock coming back ------------------------------------------------------------------------


def sku_return_stock(*, lines: list[tuple[int, int]]) -> None:
    """Give back ``(sku id, quantity)`` units (a cancelled order, returned goods): to the
    supplier's pool for a picked SKU, else to the store's own stock. Rows in id order."""
    supplied = dict(
        Sku.objects.filter(pk__in=[sku_id for sku_id, _quantity in lines])
        .exclude(supply_sku=None)
        .values_list("pk", "supply_sku_id")
    )
    own: dict[int, int] = {}
    pool: dict[int, int] = {}
    for sku_id, quantity in lines:
        if not quantity:
            continue
        if sku_id in supplied:
            pool[supplied[sku_id]] = pool.get(supplied[sku_id], 0) + quantity
        else:
            own[sku_id] = own.get(sku_id, 0) + quantity
    for sku_id in sorted(own):
        Sku.objects.filter(pk=sku_id).update(stock=F("stock") + own[sku_id])
    for pool_id in sorted(pool):
        SupplySku.objects.filter(pk=pool_id).update(stock=F("stock") + pool[pool_id])


# --- picked from the supply catalogue ---------------------------------------------------------


def _supply_sellable(supply_sku_id: int) -> bool:
    return SupplySku.objects.filter(
        pk=supply_sku_id,
        is_active=True,
        product__is_listed=True,
        product__removed_by_platform=False,
        supplier__status="active",
    ).exists()


def supplied_product_create(
    *,
    merchant: Merchant,
    supply_product: SupplyProduct,
    skus: list[tuple[SupplySku, Decimal, Decimal]],
) -> Product:
    """The store's copy of a picked supply product: one SKU per (supply SKU, retail price, floor).

    The caller (apps.dropship) works out each floor; here every price is checked against it. A
    product is picked once per store (Conflict ``already_picked``).
    """
    if not skus:
        raise DomainError(_("Pick at least one SKU."), code="no_skus")
    with transaction.atomic():
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    merchant=merchant,
                    name=supply_product.name,
                    description=supply_product.description,
                    image=supply_product.image.name if supply_product.image else "",
                    supply_product=supply_product,
                )
        except IntegrityError as error:
            raise Conflict(
                _("“%(name)s” is in your store already.") % {"name": supply_product.name},
                code="already_picked",
            ) from error
        for supply_sku, price, floor in skus:
            price = _clean_price(price)
            sku = Sku(
                merchant=merchant,
                product=product,
                name=supply_sku.name,
                code=f"{supply_product.supplier.slug}-{supply_sku.code}"[:64],
                price=price,
                stock=0,
                supply_sku=supply_sku,
                supply_floor=floor,
            )
            _check_supply_floor(sku=sku, price=price)
            if Sku.objects.filter(merchant=merchant, code=sku.code).exists():
                raise _code_taken(sku.code)
            try:
                with transaction.atomic():
                    sku.save()
            except IntegrityError as error:
                raise _code_taken(sku.code) from error
    catalogue_changed(merchant_id=merchant.pk)
    return product


def supplied_sku_set_terms(*, sku_id: int, floor: Decimal, sellable: bool) -> str:
    """Apply the supplier's new terms to one picked SKU, under its row lock.

    Returns what happened: ``held`` (taken off sale: the price is now below the floor or the
    supplier stopped selling), ``released`` (back on sale), or ``unchanged``.
    """
    with transaction.atomic():
        sku = Sku.objects.select_for_update().filter(pk=sku_id).first()
        if sku is None or not sku.supply_sku_id:
            raise _sku_not_found(sku_id)
        fields: dict[str, Any] = {}
        if sku.supply_floor != floor:
            fields["supply_floor"] = floor
        ok = sellable and sku.price >= floor
        outcome = "unchanged"
        if not ok and sku.is_active:
            fields.update(is_active=False, supply_hold=True)
            outcome = "held"
        elif ok and sku.supply_hold:
            fields.update(is_active=True, supply_hold=False)
            outcome = "released"
        for name, value in fields.items():
            setattr(sku, name, value)
        if fields:
            sku.save(update_fields=list(fields))
            catalogue_changed(merchant_id=sku.merchant_id)
    return outcome
