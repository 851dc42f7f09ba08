"""A CSV import of distributors run in the background."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


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
