from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from apps.merchants.models import MerchantOwned

percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


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
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("programme settings")
        verbose_name_plural = _("programme settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spend_threshold__isnull=True) | models.Q(spend_threshold__gt=0),
                name="programme_spend_threshold_positive",
            )
        ]

    def __str__(self) -> str:
        return str(self.merchant)


class Tier(MerchantOwned):
    """等级: a merchant-defined distributor tier. A higher rank is a better tier; its commission
    percents per level, when set, replace the merchant's default percents for its members."""

    name = models.CharField(_("name"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("rank"))
    level1_percent = models.DecimalField(
        _("level 1 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    level2_percent = models.DecimalField(
        _("level 2 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    level3_percent = models.DecimalField(
        _("level 3 (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=percent_validators,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["merchant_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["merchant", "name"], name="tier_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_percents(self) -> dict[int, Decimal | None]:
        return {1: self.level1_percent, 2: self.level2_percent, 3: self.level3_percent}


class Distributor(MPTTModel, MerchantOwned):  # type: ignore[django-manager-missing]
    """分销员: one profile per (merchant, user), placed in the merchant's tree under its inviter.

    Tree writes go through ``distributor_join`` and ``distributor_move`` only (in services), which
    lock the trees they write while django-mptt renumbers them: mptt corrupts trees under
    concurrent writers otherwise.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="distributor_profiles",
        verbose_name=_("user"),
    )
    parent = TreeForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("inviter"),
    )
    invite_code = models.CharField(_("invite code"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.ACTIVE)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("tier"),
    )
    tier_since = models.DateTimeField(_("in tier since"), null=True, blank=True)

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "user"], name="distributor_one_profile_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["merchant", "invite_code"], name="distributor_invite_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.invite_code})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class CustomerBinding(MerchantOwned):
    """锁客: the distributor a consumer is bound to in one store (permanent binding)."""

    class Source(models.TextChoices):
        LINK = "link", _("Share link")
        ORDER = "order", _("Order")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="distributor_bindings",
        verbose_name=_("customer"),
    )
    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="customer_bindings",
        verbose_name=_("distributor"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.LINK)
    bound_at = models.DateTimeField(_("bound at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer binding")
        verbose_name_plural = _("customer bindings")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "customer"], name="binding_one_per_customer_per_merchant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.distributor}"
