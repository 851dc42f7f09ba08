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


def staff_may_see_phones(user: "User | AnonymousUser") -> bool:
    """Full phone numbers in back-office lists and exports: the operator and merchant owners;
    other staff see them masked (``apps.core.personal.phone_mask``)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return MerchantStaff.objects.filter(
        user=user, role=MerchantStaff.Role.OWNER, merchant__status=Merchant.Status.ACTIVE
    ).exists()
