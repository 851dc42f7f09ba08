"""A merchant's programme settings: recruitment, binding and earning modes."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgrammeSettings(models.Model):
    """A merchant's distribution programme: how distributors are recruited, how customers are bound
    to them, and which earning modes are on. A merchant without a row has the defaults
    (``programme_settings_for`` in selectors returns an unsaved instance)."""

    class RecruitmentMode(models.TextChoices):
        EVERYONE = "everyone", _("Everyone (人人分销)")
        APPLICATION = "application", _("By application with review (申请)")
        APPOINTED = "appointed", _("Appointed only (指定)")
        THRESHOLD = "threshold", _("After a spending threshold (满额)")

    class BindingMode(models.TextChoices):
        PERMANENT = "permanent", _("Permanent (永久)")
        DAYS = "days", _("For N days (有效期)")
        LATEST = "latest", _("Latest link wins (临时)")

    merchant = models.OneToOneField(
        "merchants.Merchant",
        on_delete=models.CASCADE,
        related_name="programme_settings",
        verbose_name=_("merchant"),
    )
    recruitment_mode = models.CharField(
        _("recruitment mode"),
        max_length=16,
        choices=RecruitmentMode,
        default=RecruitmentMode.EVERYONE,
    )
    spend_threshold = models.DecimalField(
        _("spending threshold"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Threshold mode: a customer who has paid this much becomes a distributor."),
    )
    application_questions = models.JSONField(_("application questions"), default=list, blank=True)
    binding_mode = models.CharField(
        _("binding mode"), max_length=16, choices=BindingMode, default=BindingMode.PERMANENT
    )
    binding_days = models.PositiveIntegerField(
        _("binding days"), default=30, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    binding_new_customers_only = models.BooleanField(
        _("bind new customers only"),
        default=False,
        help_text=_("Only customers who have never paid an order in this store can be bound."),
    )
    self_purchase_commission = models.BooleanField(
        _("commission on own purchases (自购返佣)"), default=False
    )
    agency_enabled = models.BooleanField(
        _("agency mode (差价)"),
        default=False,
        help_text=_(
            "Distributors earn the difference between their tier price and the sale price."
        ),
    )
    refund_rate_threshold = models.DecimalField(
        _("refund rate flag (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("30.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100.00"))],
        help_text=_(
            "Flag a distributor for review when at least this share of what their customers paid "
            "was refunded. Empty: never."
        ),
    )
    refund_rate_days = models.PositiveIntegerField(
        _("refund rate period (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("The refund rate is taken over the orders paid in this many last days."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("programme settings")
        verbose_name_plural = _("programme settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spend_threshold__isnull=True) | models.Q(spend_threshold__gt=0),
                name="programme_spend_threshold_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(refund_rate_threshold__isnull=True)
                | models.Q(refund_rate_threshold__gt=0, refund_rate_threshold__lte=100),
                name="programme_refund_rate_threshold_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(refund_rate_days__gte=1, refund_rate_days__lte=365),
                name="programme_refund_rate_days_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.merchant)
