from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.applications import Application

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$",
    _("Use 3–50 lower-case letters, digits and hyphens, not starting or ending with a hyphen."),
)


class Merchant(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[slug_validator])
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    platform_fee_percent = models.DecimalField(
        _("platform fee (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    description = models.TextField(_("description"), blank=True)
    staff_two_factor_required = models.BooleanField(
        _("staff must use two-factor sign-in"),
        default=False,
        help_text=_(
            "Staff confirm each back-office sign-in with a code from an authenticator app."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(platform_fee_percent__gte=0, platform_fee_percent__lte=100),
                name="merchant_platform_fee_percent_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MerchantOwned(models.Model):
    """Base for every row that belongs to one merchant (the tenant key of the shared schema)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )

    class Meta:
        abstract = True


class MerchantStaff(models.Model):
    """A user who works in one merchant's back office. A user is staff of at most one merchant."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="staff", verbose_name=_("merchant")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_membership",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.STAFF)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant staff")
        verbose_name_plural = _("merchant staff")
        # Granted by the operator (a user's or a group's permissions); owners see phones by role.
        permissions = [("view_phone_numbers", _("Can see customers' full phone numbers"))]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class MerchantApplication(Application):
    """商家入驻: a would-be merchant applies publicly; the platform operator reviews it (contacts,
    status and review: ``apps.accounts.applications.Application``)."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_applications",
        verbose_name=_("applicant"),
    )
    store_name = models.CharField(_("store name"), max_length=100)
    slug = models.SlugField(_("store address"), max_length=50, validators=[slug_validator])
    description = models.TextField(_("what you sell"), blank=True)
    merchant = models.OneToOneField(
        Merchant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("merchant"),
    )

    class Meta:
        verbose_name = _("merchant application")
        verbose_name_plural = _("merchant applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(status="pending"),
                name="merchant_application_pending_slug_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_name} ({self.get_status_display()})"
