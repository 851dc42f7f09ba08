from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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


class Combinator(models.TextChoices):
    ALL = "all", _("All conditions (AND)")
    ANY = "any", _("Any condition (OR)")


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
    upgrade_combinator = models.CharField(
        _("upgrade when"),
        max_length=3,
        choices=Combinator,
        default=Combinator.ALL,
        help_text=_("Whether all upgrade conditions must hold, or any one of them."),
    )
    keep_combinator = models.CharField(
        _("kept while"),
        max_length=3,
        choices=Combinator,
        default=Combinator.ALL,
        help_text=_("Whether all keep conditions must hold, or any one of them."),
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


class Distributor(MPTTModel, MerchantOwned):
    """分销员: one profile per (merchant, user), placed in the merchant's tree under its inviter.

    Tree writes go through ``apps.distributors.tree`` (joins, respacing, imports) and
    ``distributor_move``, which take the tree locks described there: mptt corrupts trees under
    concurrent writers otherwise.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class Qualification(models.TextChoices):
        EVERYONE = "everyone", _("Joined (everyone may join)")
        APPLICATION = "application", _("Application approved")
        APPOINTED = "appointed", _("Appointed by the merchant")
        THRESHOLD = "threshold", _("Reached the spending threshold")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="distributor_profiles",
        verbose_name=_("user"),
    )
    if TYPE_CHECKING:
        # Not fields: what the distributor API views attach for their serializers.
        relative_level: int
        share_url: str
        qr_url: str
        upline: list["Distributor"]

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
    qualification = models.CharField(
        _("qualified by"),
        max_length=16,
        choices=Qualification,
        default=Qualification.EVERYONE,
        help_text=_("How this person became a distributor."),
    )
    qualifying_order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("qualifying order"),
        help_text=_("Threshold mode: the paid order that reached the spending threshold."),
    )
    signup_ip = models.GenericIPAddressField(_("sign-up IP"), null=True, blank=True)
    signup_device = models.CharField(_("sign-up device"), max_length=64, blank=True)
    # A gapped nested set (see apps/distributors/tree.py): 64-bit bounds with free space in every
    # interval, so a join writes only its own row. mptt adds only the tree fields that are missing.
    lft = models.BigIntegerField(editable=False)
    rght = models.BigIntegerField(editable=False)

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="distributor_tree_lft"),
            models.Index(fields=["tree_id", "rght"], name="distributor_tree_rght"),
            models.Index(fields=["parent", "rght"], name="distributor_parent_rght"),
            models.Index(fields=["tree_id", "level", "lft"], name="distributor_tree_level_lft"),
        ]
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


class ImportJob(MerchantOwned):
    """A CSV import of distributors started from the admin, run by a Celery worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    content = models.TextField(_("content"))
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows imported"), default=0)
    error_row = models.PositiveIntegerField(_("error row"), null=True, blank=True)
    error_reason = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("distributor import")
        verbose_name_plural = _("distributor imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name or self.pk} ({self.get_status_display()})"


class CustomerBinding(MerchantOwned):
    """锁客: the distributor a consumer is bound to in one store.

    In force while ``expires_at`` is empty or still ahead (see ``binding_in_force``)."""

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
    bound_at = models.DateTimeField(_("bound at"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("Binding for N days: from this instant the binding no longer counts."),
    )

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


def binding_in_force(now) -> models.Q:  # type: ignore[no-untyped-def]
    """CustomerBinding rows that count at ``now``: permanent, or not yet expired."""
    return models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)


class BindingChange(MerchantOwned):
    """History of a customer's binding in one store: every bind and rebind, with its reason."""

    class Reason(models.TextChoices):
        BOUND = "bound", _("First bound")
        LATEST_LINK = "latest_link", _("Rebound: latest link wins")
        EXPIRED_REBOUND = "expired_rebound", _("Rebound after the binding expired")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    from_distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("binding change")
        verbose_name_plural = _("binding changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["merchant", "customer"], name="binding_change_customer")]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_distributor} → {self.to_distributor}"


class DistributorApplication(MerchantOwned):
    """申请: a request to become a distributor in application mode, reviewed by the merchant."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="distributor_applications",
        verbose_name=_("applicant"),
    )
    invite_code = models.CharField(_("inviter's code"), max_length=16, blank=True)
    answers = models.JSONField(
        _("answers"), default=list, blank=True, help_text=_("[{question, answer}, …]")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    reject_reason = models.CharField(_("reason for rejection"), max_length=255, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("distributor"),
    )
    signup_ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    signup_device = models.CharField(_("device"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        verbose_name = _("distributor application")
        verbose_name_plural = _("distributor applications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "user"],
                condition=models.Q(status="pending"),
                name="distributor_application_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_status_display()})"


class TierCondition(MerchantOwned):
    """One condition of a tier: upgrade into it, or keep it (otherwise down one step)."""

    class Purpose(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade into this tier")
        KEEP = "keep", _("Keep this tier")

    class Metric(models.TextChoices):
        OWN_SALES_AMOUNT = "own_sales_amount", _("Own sales amount")
        OWN_ORDER_COUNT = "own_order_count", _("Own order count")
        TEAM_SALES_AMOUNT = "team_sales_amount", _("Team sales amount")
        TEAM_ORDER_COUNT = "team_order_count", _("Team order count")
        DIRECT_RECRUITS = "direct_recruits", _("Direct recruits")

    tier = models.ForeignKey(
        Tier, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("tier")
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=Purpose)
    metric = models.CharField(_("metric"), max_length=24, choices=Metric)
    threshold = models.DecimalField(
        _("at least"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("An amount in yuan, or a count."),
    )
    period_days = models.PositiveIntegerField(
        _("over the last (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )

    class Meta:
        verbose_name = _("tier condition")
        verbose_name_plural = _("tier conditions")
        ordering = ["tier_id", "purpose", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gt=0), name="tier_condition_threshold_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(period_days__gte=1), name="tier_condition_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≥ {self.threshold} / {self.period_days}d"

    @property
    def is_amount(self) -> bool:
        return self.metric in (self.Metric.OWN_SALES_AMOUNT, self.Metric.TEAM_SALES_AMOUNT)


class TierChange(MerchantOwned):
    """History of a distributor's tier: every upgrade and downgrade with its reason and figures."""

    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="tier_changes",
        verbose_name=_("distributor"),
    )
    from_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to"),
    )
    reason = models.CharField(_("reason"), max_length=255)
    metrics = models.JSONField(_("figures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.distributor}: {self.from_tier or '-'} → {self.to_tier or '-'}"


class FraudFlag(MerchantOwned):
    """A distributor flagged for the merchant's review (shared device or IP, refund rate)."""

    class Kind(models.TextChoices):
        DEVICE = "device", _("Shares a device with another distributor")
        IP = "ip", _("Shares an IP address with another distributor")
        REFUND_RATE = "refund_rate", _("High refund rate")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        ACTIONED = "actioned", _("Actioned (distributor suspended)")

    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="fraud_flags",
        verbose_name=_("distributor"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("fraud flag")
        verbose_name_plural = _("fraud flags")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "distributor", "kind"],
                condition=models.Q(status="open"),
                name="fraud_flag_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.distributor}: {self.get_kind_display()}"


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
