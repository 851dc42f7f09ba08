"""Applications to join (申请) and fraud flags raised on distributors for review."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned

from .distributor import Distributor


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
