"""Agency mode (差价): purchase prices per tier and SKU, and distributors' own prices."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned

from .distributor import Distributor
from .tiers import Tier


class TierSkuPrice(MerchantOwned):
    """Agency mode (差价): what a distributor pays the merchant for one unit of a SKU.

    ``tier`` empty is the base purchase price, for distributors without a tier and for tiers with
    no price of their own for the SKU. A SKU with neither is not sold in agency mode.
    """

    tier = models.ForeignKey(
        Tier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sku_prices",
        verbose_name=_("tier"),
        help_text=_("Empty: the base purchase price (distributors without a tier price)."),
    )
    sku = models.ForeignKey(
        "products.Sku",
        on_delete=models.CASCADE,
        related_name="tier_prices",
        verbose_name=_("SKU"),
    )
    purchase_price = models.DecimalField(
        _("purchase price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("tier purchase price")
        verbose_name_plural = _("tier purchase prices")
        ordering = ["sku_id", "tier_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "tier", "sku"],
                condition=models.Q(tier__isnull=False),
                name="tier_sku_price_unique",
            ),
            models.UniqueConstraint(
                fields=["merchant", "sku"],
                condition=models.Q(tier__isnull=True),
                name="tier_sku_price_base_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(purchase_price__gt=0), name="tier_sku_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier or _('base')} · {self.purchase_price}"


class DistributorPrice(MerchantOwned):
    """A distributor's own resale price for a SKU in their micro-shop (微店), agency mode.

    Set through ``distributor_price_set`` only, which keeps it within the SKU's floor and ceiling
    and not below the distributor's purchase price.
    """

    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.CASCADE,
        related_name="resale_prices",
        verbose_name=_("distributor"),
    )
    sku = models.ForeignKey(
        "products.Sku", on_delete=models.CASCADE, related_name="+", verbose_name=_("SKU")
    )
    price = models.DecimalField(_("resale price"), max_digits=12, decimal_places=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("distributor resale price")
        verbose_name_plural = _("distributor resale prices")
        ordering = ["distributor_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "distributor", "sku"], name="distributor_price_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gt=0), name="distributor_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.distributor_id} · {self.sku_id} · {self.price}"
