from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.marketing.models import Coupon, Promotion, PromotionPrice, PromotionStep
from apps.marketing.services import coupon_grant, flash_sale_create
from apps.members.models import Member, MemberLevel, MemberSettings
from apps.members.services import points_adjust


def coupon(merchant, **fields) -> Coupon:
    values = {
        "name": "¥10 off ¥50",
        "kind": Coupon.Kind.AMOUNT,
        "amount_off": Decimal("10.00"),
        "threshold": Decimal("50.00"),
        "valid_days": 7,
        "total_quantity": 100,
        "per_person_limit": 1,
    }
    values.update(fields)
    products = values.pop("products", [])
    made = Coupon.objects.create(merchant=merchant, **values)
    made.products.set(products)
    return made


def granted(merchant, customer, **fields):
    return coupon_grant(coupon=coupon(merchant, **fields), customer=customer)


def limited_price(merchant, sku, price, **fields) -> Promotion:
    now = timezone.now()
    promotion = Promotion.objects.create(
        merchant=merchant,
        name=fields.pop("name", "限时折扣"),
        kind=Promotion.Kind.LIMITED_PRICE,
        starts_at=fields.pop("starts_at", now - timedelta(hours=1)),
        ends_at=fields.pop("ends_at", now + timedelta(hours=1)),
    )
    PromotionPrice.objects.create(merchant=merchant, promotion=promotion, sku=sku, price=price)
    return promotion


def full_reduction(merchant, steps, products=(), **fields) -> Promotion:
    now = timezone.now()
    promotion = Promotion.objects.create(
        merchant=merchant,
        name=fields.pop("name", "满减"),
        kind=Promotion.Kind.FULL_REDUCTION,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    promotion.products.set(products)
    for threshold, off in steps:
        PromotionStep.objects.create(
            merchant=merchant,
            promotion=promotion,
            threshold=Decimal(threshold),
            amount_off=Decimal(off),
        )
    return promotion


def member(merchant, customer, *, discount="0", points=0, spend="0.00") -> Member:
    level = MemberLevel.objects.create(
        merchant=merchant,
        name=f"L{discount}-{spend}",
        min_spend=Decimal(spend),
        discount_percent=Decimal(discount),
    )
    made, _created = Member.objects.update_or_create(
        merchant=merchant, user=customer, defaults={"level": level}
    )
    if points:
        points_adjust(member=made, points=points, note="test", key=f"test:{points}")
        made.refresh_from_db()
    return made


def member_settings(merchant, **fields) -> MemberSettings:
    made, _ = MemberSettings.objects.update_or_create(merchant=merchant, defaults=fields)
    return made


def flash(merchant, sku, *, price="9.90", pool=5, limit=2, **fields):
    now = timezone.now()
    return flash_sale_create(
        merchant=merchant,
        sku=sku,
        name=fields.get("name", "秒杀"),
        price=Decimal(price),
        starts_at=fields.get("starts_at", now - timedelta(minutes=5)),
        ends_at=fields.get("ends_at", now + timedelta(hours=1)),
        pool=pool,
        per_person_limit=limit,
    )
