"""Suppliers (供应商): the third kind of tenant. A supplier lists goods once, with a supply price;
merchants pick them into their stores (apps.dropship) and the supplier ships them (一件代发).

A supplied SKU's stock lives here, once: every merchant selling it reserves from this one pool.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.applications import Application
from apps.merchants.models import slug_validator


class Supplier(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("company name"), max_length=100)
    slug = models.SlugField(_("code"), max_length=50, unique=True, validators=[slug_validator])
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.ACTIVE)
    categories = models.CharField(_("categories"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SupplierOwned(models.Model):
    """Base for every row that belongs to one supplier (its tenant key)."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier")
    )

    class Meta:
        abstract = True


class SupplierStaff(models.Model):
    """A user who works in one supplier's back office. Never also a merchant's staff."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="staff", verbose_name=_("supplier")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="supplier_membership",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.STAFF)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier staff")
        verbose_name_plural = _("supplier staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.supplier}"


class SupplierApplication(Application):
    """供应商入驻: a company applies publicly with its business licence; the operator reviews it
    (contacts, status and review: ``apps.accounts.applications.Application``)."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="supplier_applications",
        verbose_name=_("applicant"),
    )
    company_name = models.CharField(_("company name"), max_length=100)
    slug = models.SlugField(_("code"), max_length=50, validators=[slug_validator])
    categories = models.CharField(_("categories"), max_length=255)
    licence = models.FileField(_("business licence"), upload_to="supplier-licences/")
    licence_content_type = models.CharField(_("licence type"), max_length=32)
    supplier = models.OneToOneField(
        Supplier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("supplier"),
    )

    class Meta:
        verbose_name = _("supplier application")
        verbose_name_plural = _("supplier applications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(status="pending"),
                name="supplier_application_pending_slug_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.get_status_display()})"


class SupplyProduct(SupplierOwned):
    """A product in the platform's supply catalogue. Merchants pick it into their stores."""

    class ShippingTemplate(models.TextChoices):
        FREE = "free", _("Free shipping nationwide")
        FREE_EXCEPT_REMOTE = "free_except_remote", _("Free shipping, remote areas excluded")
        COLLECT = "collect", _("Shipping paid by the recipient")

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="supply/", blank=True)
    shipping_template = models.CharField(
        _("shipping template"),
        max_length=32,
        choices=ShippingTemplate,
        default=ShippingTemplate.FREE,
    )
    dispatch_days = models.PositiveSmallIntegerField(_("ships within (days)"), default=2)
    after_sale_terms = models.TextField(
        _("after-sale terms"),
        default="",
        blank=True,
        help_text=_("Returns and exchanges the supplier accepts, shown to buyers."),
    )
    is_listed = models.BooleanField(_("listed"), default=True)
    # The platform takes a product off the catalogue; the supplier cannot list it again.
    removed_by_platform = models.BooleanField(_("removed by the platform"), default=False)
    removed_reason = models.CharField(_("reason for removal"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supply product")
        verbose_name_plural = _("supply products")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def on_catalogue(self) -> bool:
        return self.is_listed and not self.removed_by_platform


class SupplySku(SupplierOwned):
    """A supplied SKU: the supplier's price to merchants, its price rules and its one stock pool."""

    product = models.ForeignKey(
        SupplyProduct, on_delete=models.PROTECT, related_name="skus", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=64)
    supply_price = models.DecimalField(
        _("supply price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    suggested_retail_price = models.DecimalField(
        _("suggested retail price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    min_retail_price = models.DecimalField(
        _("minimum retail price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    stock = models.IntegerField(_("stock"), default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("supply SKU")
        verbose_name_plural = _("supply SKUs")
        ordering = ["product_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "code"], name="supply_sku_code_unique"),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0), name="supply_sku_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(supply_price__gt=0), name="supply_sku_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(min_retail_price__gte=models.F("supply_price")),
                name="supply_sku_min_retail_not_below_supply",
                violation_error_message=_("The minimum retail price is below the supply price."),
            ),
            models.CheckConstraint(
                condition=models.Q(suggested_retail_price__gte=models.F("min_retail_price")),
                name="supply_sku_suggested_not_below_min",
                violation_error_message=_(
                    "The suggested retail price is below the minimum retail price."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} / {self.name}" if self.product_id else self.name
