"""Writes of the commission rules besides the plan: product and SKU overrides, bonus tiers.

Each write is checked as a whole (the same limits as the database constraints, as clear errors)
and a concurrent duplicate that slips past the check answers 409 rather than 500.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import HUNDRED, ZERO, NotTwoPlaces, parse_two_places
from apps.merchants.models import Merchant
from apps.products.models import Product, Sku

from .models import BonusTier, CommissionOverride, CommissionPlan


def _amount(value: Any, *, code: str) -> Any:
    if value is None:
        return None
    try:
        return parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(
            _("Values are numbers with at most two decimal places."), code=code
        ) from error


def commission_override_save(
    *,
    merchant: Merchant,
    override_id: int | None = None,
    product: Product | None = None,
    sku: Sku | None = None,
    mode: str = CommissionOverride.Mode.PERCENT,
    level1_value: Any = None,
    level2_value: Any = None,
    level3_value: Any = None,
) -> CommissionOverride:
    """Create (``override_id`` None) or replace an override of one product or one SKU."""
    if (product is None) == (sku is None):
        raise DomainError(_("Choose either a product or a SKU, not both."), code="override_target")
    for target in (product, sku):
        if target is not None and target.merchant_id != merchant.pk:
            raise NotFound(_("No such product or SKU."), code="unknown_target")
    if mode not in CommissionOverride.Mode.values:
        raise DomainError(_("Mode is percent or fixed."), code="invalid_mode")
    values = [_amount(v, code="invalid_value") for v in (level1_value, level2_value, level3_value)]
    if all(value is None for value in values):
        raise DomainError(_("Set at least one level."), code="no_level")
    for value in values:
        if value is not None and value < ZERO:
            raise DomainError(_("Values cannot be negative."), code="negative_value")
        if value is not None and mode == CommissionOverride.Mode.PERCENT and value > HUNDRED:
            raise DomainError(_("A percent is at most 100."), code="percent_over_100")
    fields = {
        "product": product,
        "sku": sku,
        "mode": mode,
        "level1_value": values[0],
        "level2_value": values[1],
        "level3_value": values[2],
    }
    try:
        with transaction.atomic():
            if override_id is None:
                return CommissionOverride.objects.create(merchant=merchant, **fields)
            override = (
                CommissionOverride.objects.select_for_update()
                .filter(merchant=merchant, pk=override_id)
                .first()
            )
            if override is None:
                raise NotFound(_("No such override."), code="unknown_override")
            for name, value in fields.items():
                setattr(override, name, value)
            override.save()
            return override
    except IntegrityError as error:
        raise Conflict(
            _("This product or SKU already has an override."), code="override_exists"
        ) from error


def commission_override_delete(*, merchant: Merchant, override_id: int) -> None:
    deleted, _rows = CommissionOverride.objects.filter(merchant=merchant, pk=override_id).delete()
    if not deleted:
        raise NotFound(_("No such override."), code="unknown_override")


def bonus_tier_save(
    *,
    merchant: Merchant,
    tier_id: int | None = None,
    monthly_sales_threshold: Any,
    extra_percent: Any,
) -> BonusTier:
    """Create (``tier_id`` None) or replace a bonus tier of the merchant's plan."""
    threshold = _amount(monthly_sales_threshold, code="invalid_threshold")
    extra = _amount(extra_percent, code="invalid_extra_percent")
    if threshold is None or threshold <= ZERO:
        raise DomainError(_("The threshold is above 0."), code="invalid_threshold")
    if extra is None or not ZERO < extra <= HUNDRED:
        raise DomainError(
            _("The extra percent is above 0 and at most 100."), code="invalid_extra_percent"
        )
    plan = CommissionPlan.objects.filter(merchant=merchant).first()
    if plan is None:
        raise NotFound(_("This merchant has no commission plan."), code="no_commission_plan")
    try:
        with transaction.atomic():
            if tier_id is None:
                return BonusTier.objects.create(
                    merchant=merchant,
                    plan=plan,
                    monthly_sales_threshold=threshold,
                    extra_percent=extra,
                )
            tier = (
                BonusTier.objects.select_for_update().filter(merchant=merchant, pk=tier_id).first()
            )
            if tier is None:
                raise NotFound(_("No such bonus tier."), code="unknown_bonus_tier")
            tier.monthly_sales_threshold, tier.extra_percent = threshold, extra
            tier.save(update_fields=["monthly_sales_threshold", "extra_percent"])
            return tier
    except IntegrityError as error:
        raise Conflict(
            _("A bonus tier with this threshold exists."), code="bonus_tier_exists"
        ) from error


def bonus_tier_delete(*, merchant: Merchant, tier_id: int) -> None:
    deleted, _rows = BonusTier.objects.filter(merchant=merchant, pk=tier_id).delete()
    if not deleted:
        raise NotFound(_("No such bonus tier."), code="unknown_bonus_tier")
