"""Customer binding (锁客): who a customer is bound to in a store, and every change of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned

from .distributor import Distributor


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
