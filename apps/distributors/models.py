from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from apps.merchants.models import MerchantOwned


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
