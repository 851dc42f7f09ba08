from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned
from apps.suppliers.models import SupplyProduct, SupplySku


class Product(MerchantOwned):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A product picked from the supply catalogue (一件代发): the supplier ships it.
    supply_product = models.ForeignKey(
        SupplyProduct,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="picks",
        verbose_name=_("picked from"),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sort_order", "id"]
        indexes = [models.Index(fields=["merchant", "is_active", "sort_order"])]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "supply_product"],
                condition=models.Q(supply_product__isnull=False),
                name="product_picked_once_per_merchant",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Sku(MerchantOwned):
    """规格: what is actually priced, stocked and ordered."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="skus", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=64)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    stock = models.IntegerField(_("stock"), default=0, validators=[MinValueValidator(0)])
    # Price control (控价) for agency mode: distributors' resale prices stay within these bounds,
    # and so does the store's own price. Either may be unset.
    min_resale_price = models.DecimalField(
        _("resale price floor"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    max_resale_price = models.DecimalField(
        _("resale price ceiling"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    # A picked SKU sells the supplier's stock (one pool shared by every store: ``stock`` here
    # stays 0) at this store's own price, never below ``supply_floor``: the supplier's minimum
    # retail price or the money floor (supply price plus the most commission and the platform fee
    # can take), whichever is higher. When the supplier's terms push the floor above the price,
    # the SKU is taken off sale (``supply_hold``) until the merchant prices it again.
    supply_sku = models.ForeignKey(
        SupplySku,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="picks",
        verbose_name=_("supplied SKU"),
    )
    supply_floor = models.DecimalField(
        _("lowest retail price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    supply_hold = models.BooleanField(_("held: price below the supplier's floor"), default=False)

    @property
    def price_floor(self) -> Decimal | None:
        """The lowest unit price it may sell at: the resale floor and, for a supplied SKU, the
        supplier's floor (their minimum retail price or the money floor), whichever is higher.
        Order placement reads the same under the SKU's lock (``GREATEST`` of the two columns)."""
        floors = [f for f in (self.min_resale_price, self.supply_floor) if f is not None]
        return max(floors) if floors else None

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["product_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"], name="sku_code_unique_per_merchant"
            ),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="sku_stock_not_negative"),
            models.UniqueConstraint(
                fields=["merchant", "supply_sku"],
                condition=models.Q(supply_sku__isnull=False),
                name="sku_picked_once_per_merchant",
            ),
            models.CheckConstraint(
                condition=models.Q(supply_sku__isnull=True)
                | models.Q(supply_floor__isnull=False, stock=0),
                name="sku_supplied_has_floor_and_no_own_stock",
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="sku_price_positive"),
            models.CheckConstraint(
                condition=models.Q(min_resale_price__isnull=True)
                | models.Q(min_resale_price__gt=0),
                name="sku_resale_floor_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(max_resale_price__isnull=True)
                | models.Q(max_resale_price__gt=0),
                name="sku_resale_ceiling_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(min_resale_price__isnull=True)
                | models.Q(max_resale_price__isnull=True)
                | models.Q(min_resale_price__lte=models.F("max_resale_price")),
                name="sku_resale_floor_not_above_ceiling",
                violation_error_message=_("The resale price floor is above the ceiling."),
            ),
            models.CheckConstraint(
                condition=models.Q(min_resale_price__isnull=True)
                | models.Q(price__gte=models.F("min_resale_price")),
                name="sku_price_not_below_floor",
                violation_error_message=_("The price is below the resale price floor."),
            ),
            models.CheckConstraint(
                condition=models.Q(max_resale_price__isnull=True)
                | models.Q(price__lte=models.F("max_resale_price")),
                name="sku_price_not_above_ceiling",
                violation_error_message=_("The price is above the resale price ceiling."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} / {self.name}" if self.product_id else self.name

    @property
    def available_stock(self) -> int:
        """What can be sold now: the supplier's pool for a picked SKU, else the store's own."""
        supply_sku = self.supply_sku if self.supply_sku_id else None
        return supply_sku.stock if supply_sku is not None else self.stock
