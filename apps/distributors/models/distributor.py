"""The distributor: one node of its merchant's tree (see ``apps/distributors/tree.py``)."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey

from apps.merchants.models import MerchantOwned

from .tiers import Tier


def next_tree_id() -> int:
    """The id of a new tree. Tree ids are unique across merchants, while row-level security shows
    a merchant's session only its own trees: ``fenxiao_next_tree_id()`` (apps/tenancy/rls.py)
    reads every tree's id (and nothing else)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT fenxiao_next_tree_id()")
        return int(cursor.fetchone()[0])


class DistributorManager(TreeManager):
    def _get_next_tree_id(self) -> int:
        return next_tree_id()


class Distributor(MPTTModel, MerchantOwned):
    """分销员: one profile per (merchant, user), placed in the merchant's tree under its inviter.

    Tree writes go through ``apps.distributors.tree`` (joins, respacing, imports) and
    ``distributor_move``, which take the tree locks described there: mptt corrupts trees under
    concurrent writers otherwise.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    objects = DistributorManager()  # type: ignore[misc]  # a TreeManager (MPTTModel declares it)

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
