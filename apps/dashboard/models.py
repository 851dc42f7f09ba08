from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class ShareVisit(MerchantOwned):
    """A browser opening a distributor's share link (``?ref=CODE``), once per browser, link owner
    and day: the top of the dashboard's funnel (visits → bound customers → orders → paid)."""

    distributor = models.ForeignKey(
        "distributors.Distributor", on_delete=models.CASCADE, related_name="+"
    )
    device_id = models.CharField(_("device"), max_length=32)
    day = models.DateField(_("day"))
    first_at = models.DateTimeField(_("first visit at"), auto_now_add=True)
    path = models.CharField(_("page"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("share-link visit")
        verbose_name_plural = _("share-link visits")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "distributor", "device_id", "day"],
                name="share_visit_once_a_day",
            )
        ]
        indexes = [models.Index(fields=["merchant", "day"], name="share_visit_by_day")]
