"""Tiers (等级) on the merchant's side: creating, changing and deleting a tier and its conditions.

Evaluating the conditions reads orders and refunds, so it lives above them, in
``apps.programme.tiers``.
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.merchants.models import Merchant

from .models import Distributor, Tier, TierChange, TierCondition


def tier_save(
    *,
    merchant: Merchant,
    tier: Tier | None = None,
    values: dict,
    conditions: list[dict] | None = None,
) -> Tier:
    """Create or update a tier and (when given) replace its conditions, in one transaction.

    Rank and name are unique per merchant (refused as a DomainError, never an IntegrityError)."""
    tier = tier or Tier(merchant=merchant)
    for name, value in values.items():
        setattr(tier, name, value)
    clash = Tier.objects.filter(merchant=merchant).exclude(pk=tier.pk)
    if clash.filter(rank=tier.rank).exists():
        raise DomainError(_("Another tier has this rank."), code="tier_rank_taken")
    if clash.filter(name=tier.name).exists():
        raise DomainError(_("Another tier has this name."), code="tier_name_taken")
    with transaction.atomic():
        tier.save()
        if conditions is not None:
            TierCondition.objects.filter(tier=tier).delete()
            TierCondition.objects.bulk_create(
                [
                    TierCondition(merchant=merchant, tier=tier, **condition)
                    for condition in conditions
                ]
            )
    return tier


def tier_delete(*, tier: Tier) -> None:
    """A tier that distributors hold, or that history names, cannot be deleted."""
    if Distributor.objects.filter(tier=tier).exists():
        raise DomainError(
            _("Distributors are in this tier: move them out before deleting it."),
            code="tier_in_use",
        )
    if TierChange.objects.filter(Q(from_tier=tier) | Q(to_tier=tier)).exists():
        raise DomainError(
            _("This tier appears in the tier history and cannot be deleted."), code="tier_in_use"
        )
    with transaction.atomic():
        TierCondition.objects.filter(tier=tier).delete()
        tier.delete()
