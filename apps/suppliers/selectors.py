from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.accounts.models import User

from .models import Supplier, SupplyProduct, SupplySku


def supplier_for_staff(user: "User | AnonymousUser") -> Supplier | None:
    """The active supplier whose back office ``user`` works in, or None. Cached on the user."""
    if not user.is_authenticated:
        return None
    if hasattr(user, "_fenxiao_staff_supplier"):
        return user._fenxiao_staff_supplier  # type: ignore[no-any-return]
    supplier = (
        Supplier.objects.filter(staff__user=user, status=Supplier.Status.ACTIVE).first()
        if user.is_active
        else None
    )
    user._fenxiao_staff_supplier = supplier  # type: ignore[attr-defined]
    return supplier


def supply_catalogue() -> "QuerySet[SupplyProduct]":
    """What merchants may browse and pick: listed products of active suppliers."""
    return SupplyProduct.objects.filter(
        is_listed=True, removed_by_platform=False, supplier__status=Supplier.Status.ACTIVE
    )


def supply_skus_on_sale() -> "QuerySet[SupplySku]":
    return SupplySku.objects.filter(
        is_active=True,
        product__is_listed=True,
        product__removed_by_platform=False,
        supplier__status=Supplier.Status.ACTIVE,
    )
