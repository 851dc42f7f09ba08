"""The demo's marketing centre and members (after the orders, so their figures stay as they are):
member levels with members at each, points, coupons in the coupon centre, a stepped full
reduction and a flash sale running now, in 茗香茶庄; a coupon and a level in 鲜果园."""

from datetime import timedelta
from decimal import Decimal

from apps.marketing.models import Coupon, Promotion, PromotionStep
from apps.marketing.services import coupon_grant, flash_sale_create
from apps.members.models import Member, MemberLevel, MemberSettings, MemberTag
from apps.members.services import member_get_or_create, points_adjust
from apps.products.models import Sku

from .world import FRUIT, TEA, DemoWorld

LEVELS = [("普通会员", "0.00", "0"), ("银卡会员", "500.00", "3"), ("金卡会员", "2000.00", "5")]
# customer → (level name, points, tags)
MEMBERS = {
    "alice": ("金卡会员", 1800, ["老客户", "爱喝绿茶"]),
    "bob": ("银卡会员", 600, ["老客户"]),
    "carol": ("普通会员", 120, []),
}


def create_marketing(world: DemoWorld) -> None:
    tea = world.merchants[TEA]
    now = world.now
    MemberSettings.objects.create(
        merchant=tea,
        points_per_yuan_earned=1,
        points_per_yuan_redeemed=100,
        points_max_percent=Decimal("30"),
        points_valid_days=365,
        level_period_days=365,
    )
    levels = {
        name: MemberLevel.objects.create(
            merchant=tea, name=name, min_spend=Decimal(spend), discount_percent=Decimal(percent)
        )
        for name, spend, percent in LEVELS
    }
    tags = {
        name: MemberTag.objects.create(merchant=tea, name=name) for name in ("老客户", "爱喝绿茶")
    }
    for username, (level, points, tag_names) in MEMBERS.items():
        member = member_get_or_create(merchant=tea, user=world.users[username])
        Member.objects.filter(pk=member.pk).update(level=levels[level])
        member.tags.set([tags[name] for name in tag_names])
        points_adjust(member=member, points=points, note="开卡礼", key="demo:welcome")

    ten_off = Coupon.objects.create(
        merchant=tea,
        name="满99减10",
        kind=Coupon.Kind.AMOUNT,
        amount_off=Decimal("10.00"),
        threshold=Decimal("99.00"),
        valid_days=30,
        total_quantity=500,
        per_person_limit=2,
    )
    Coupon.objects.create(
        merchant=tea,
        name="新人无门槛5元",
        kind=Coupon.Kind.NO_THRESHOLD,
        amount_off=Decimal("5.00"),
        valid_days=7,
        total_quantity=1000,
        per_person_limit=1,
    )
    Coupon.objects.create(
        merchant=tea,
        name="全场9折（最高减50）",
        kind=Coupon.Kind.PERCENT,
        percent_off=Decimal("10"),
        max_discount=Decimal("50.00"),
        threshold=Decimal("0"),
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=60),
        total_quantity=200,
        per_person_limit=1,
        stackable=False,
    )
    # Only through distributors' coupon links (their share page): claiming binds the consumer.
    Coupon.objects.create(
        merchant=tea,
        name="分销专享满59减8",
        kind=Coupon.Kind.AMOUNT,
        amount_off=Decimal("8.00"),
        threshold=Decimal("59.00"),
        valid_days=15,
        total_quantity=300,
        per_person_limit=1,
        claimable=False,
        distributor_shareable=True,
    )
    coupon_grant(coupon=ten_off, customer=world.users["alice"])

    reduction = Promotion.objects.create(
        merchant=tea,
        name="双旦满减",
        kind=Promotion.Kind.FULL_REDUCTION,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
    )
    for threshold, off in (("199.00", "15.00"), ("399.00", "40.00")):
        PromotionStep.objects.create(
            merchant=tea,
            promotion=reduction,
            threshold=Decimal(threshold),
            amount_off=Decimal(off),
        )
    flash_sale_create(
        merchant=tea,
        sku=Sku.objects.get(merchant=tea, code="TEA-TGY-125"),
        name="铁观音限量秒杀",
        price=Decimal("49.90"),
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(days=3),
        pool=50,
        per_person_limit=2,
    )

    fruit = world.merchants[FRUIT]
    MemberLevel.objects.create(merchant=fruit, name="普通会员", min_spend=Decimal("0"))
    Coupon.objects.create(
        merchant=fruit,
        name="鲜果满50减5",
        kind=Coupon.Kind.AMOUNT,
        amount_off=Decimal("5.00"),
        threshold=Decimal("50.00"),
        valid_days=14,
        total_quantity=300,
        per_person_limit=1,
    )
