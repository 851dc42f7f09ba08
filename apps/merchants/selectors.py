from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.accounts.models import User

from .models import Merchant, MerchantStaff


def merchant_get_active_by_slug(*, slug: str) -> Merchant | None:
    return Merchant.objects.filter(slug=slug, status=Merchant.Status.ACTIVE).first()


def merchant_for_staff(user: "User | AnonymousUser") -> Merchant | None:
    """The active merchant whose back office ``user`` works in, or None. Cached on the user object."""
    if not user.is_authenticated:
        return None
    if hasattr(user, "_fenxiao_staff_merchant"):
        return user._fenxiao_staff_merchant  # type: ignore[no-any-return]
    merchant = (
        Merchant.objects.filter(staff__user=user, status=Merchant.Status.ACTIVE).first()
        if user.is_active
        else None
    )
    user._fenxiao_staff_merchant = merchant  # type: ignore[attr-defined]
    return merchant


def merchants_active() -> "QuerySet[Merchant]":
    return Merchant.objects.filter(status=Merchant.Status.ACTIVE)


PHONE_PERMISSION = "merchants.view_phone_numbers"


def staff_may_see_phones(user: "User | AnonymousUser") -> bool:
    """Full phone numbers in the back office (admin lists, pages and the merchant API): the
    operator, merchant owners and staff holding the permission ``merchants.view_phone_numbers``;
    other staff see them masked (``apps.core.personal.phone_mask``). Cached on the user object
    for the request."""
    if not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_fenxiao_may_see_phones", None)
    if cached is None:
        cached = user.is_superuser or (
            MerchantStaff.objects.filter(
                user=user, role=MerchantStaff.Role.OWNER, merchant__status=Merchant.Status.ACTIVE
            ).exists()
            or user.has_perm(PHONE_PERMISSION)
        )
        user._fenxiao_may_see_phones = cached  # type: ignore[union-attr,attr-defined]
    return cached
