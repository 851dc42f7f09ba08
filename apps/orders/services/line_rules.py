"""What a cart or order line may hold: a whole quantity within bounds, a SKU on sale, and the
micro-shop (微店) it is bought in. Shared by the cart and placement."""

from django.utils.translation import gettext as _

from apps.core.errors import DomainError, NotFound
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_get_by_code
from apps.merchants.models import Merchant
from apps.products.models import Sku

MAX_LINE_QUANTITY = 999


def check_quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError(_("Quantity must be a whole number."), code="invalid_quantity")
    if quantity < 1:
        raise DomainError(_("Quantity must be at least 1."), code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise DomainError(
            _("At most %(max)d of one item per order.") % {"max": MAX_LINE_QUANTITY},
            code="invalid_quantity",
        )
    return quantity


def check_on_sale(sku: Sku) -> None:
    """DomainError ``sku_inactive`` unless the SKU and its product are on sale."""
    if not (sku.is_active and sku.product.is_active):
        raise DomainError(
            _("“%(name)s” is no longer on sale.") % {"name": sku}, code="sku_inactive"
        )


def sku_for_sale(*, merchant: Merchant, sku_id: int) -> Sku:
    """The merchant's on-sale SKU; another merchant's SKU acts as absent."""
    sku = Sku.objects.filter(merchant=merchant, pk=sku_id).select_related("product").first()
    if sku is None:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    check_on_sale(sku)
    return sku


def shop_of(*, merchant: Merchant, shop_code: str | None) -> Distributor | None:
    """The active distributor whose micro-shop (微店) has this invite code; None without a code."""
    if not shop_code:
        return None
    return distributor_get_by_code(merchant=merchant, code=shop_code)
