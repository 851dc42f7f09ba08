from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.accounts.models import User

from .models import Merchant


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
