"""Invariants of the marketing centre, run by ``manage.py ledger_check``."""

from django.db.models import Count, Q, Sum

from .models import Coupon, CouponGrant, FlashSale


def marketing_breaches(*, merchant_id: int | None = None) -> list[str]:
    """Each coupon batch issued as many as its grants, within its total; each open flash sale's
    pool equals what is left plus what customers hold; a used coupon has its order."""
    coupons = Coupon.objects.all()
    sales = FlashSale.objects.filter(returned_at__isnull=True)
    grants = CouponGrant.objects.all()
    if merchant_id is not None:
        coupons = coupons.filter(merchant_id=merchant_id)
        sales = sales.filter(merchant_id=merchant_id)
        grants = grants.filter(merchant_id=merchant_id)
    breaches = []
    for coupon in coupons.annotate(granted=Count("grants")):
        if coupon.granted != coupon.issued_count or coupon.issued_count > coupon.total_quantity:
            breaches.append(
                f"coupon {coupon.pk}: issued {coupon.issued_count}, grants {coupon.granted}, "
                f"total {coupon.total_quantity}"
            )
    for sale in sales.annotate(held=Sum("purchases__quantity")):
        if sale.remaining + (sale.held or 0) != sale.pool:
            breaches.append(
                f"flash sale {sale.pk}: pool {sale.pool} ≠ left {sale.remaining} + held "
                f"{sale.held or 0}"
            )
    orphans = grants.filter(Q(status=CouponGrant.Status.USED) & Q(order__isnull=True)).count()
    if orphans:
        breaches.append(f"{orphans} used coupon(s) without an order")
    return breaches
