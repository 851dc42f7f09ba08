"""The demo's distribution programme: distributor chains joined by invite code, customers bound by
share link, 茗香茶庄's tiers, and its training material."""

from decimal import Decimal

from apps.distributors.models import TierCondition
from apps.distributors.services import distributor_join
from apps.distributors.tiers import tier_save
from apps.materials.models import Material
from apps.materials.services import material_read_record
from apps.programme.binding import customer_bind
from apps.programme.tiers import tier_evaluate

from .world import FRUIT, TEA, DemoWorld

# (store, distributor, inviter or None)
DISTRIBUTORS = [
    (TEA, "tea_d1", None),
    (TEA, "tea_d2", "tea_d1"),
    (TEA, "tea_d3", "tea_d2"),
    (TEA, "tea_d4", "tea_d3"),
    (FRUIT, "fruit_d1", None),
    (FRUIT, "fruit_d2", "fruit_d1"),
]
# (store, customer, distributor whose share link they came through)
BINDINGS = [
    (TEA, "alice", "tea_d4"),
    (TEA, "bob", "tea_d2"),
    (FRUIT, "bob", "fruit_d1"),
    (FRUIT, "carol", "fruit_d2"),
]


def create_distributors(world: DemoWorld) -> None:
    for slug, username, inviter in DISTRIBUTORS:
        world.distributors[username] = distributor_join(
            merchant=world.merchants[slug],
            user=world.users[username],
            invite_code=world.distributors[inviter].invite_code if inviter else None,
        )


def bind_customers(world: DemoWorld) -> None:
    for slug, customer, distributor in BINDINGS:
        customer_bind(
            merchant=world.merchants[slug],
            customer=world.users[customer],
            invite_code=world.distributors[distributor].invite_code,
        )


def create_tiers(world: DemoWorld) -> None:
    """茗香茶庄: 银牌 (rank 1) from ¥300 of own sales in 30 days, 金牌 (rank 2) from ¥2,000 or
    three direct recruits, each kept while its own sales stay above half of that."""
    tea = world.merchants[TEA]
    M = TierCondition.Metric
    tier_save(
        merchant=tea,
        values={"name": "银牌", "rank": 1, "level1_percent": Decimal("12.00")},
        conditions=[
            {"purpose": "upgrade", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("300")},
            {"purpose": "keep", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("150")},
        ],
    )
    tier_save(
        merchant=tea,
        values={
            "name": "金牌",
            "rank": 2,
            "level1_percent": Decimal("15.00"),
            "upgrade_combinator": "any",
        },
        conditions=[
            {"purpose": "upgrade", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("2000")},
            {"purpose": "upgrade", "metric": M.DIRECT_RECRUITS, "threshold": Decimal("3")},
            {"purpose": "keep", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("1000")},
        ],
    )
    for distributor in world.distributors.values():
        if distributor.merchant_id == tea.pk:
            tier_evaluate(distributor_id=distributor.pk)


def create_materials(world: DemoWorld) -> None:
    """Two published articles and a draft for 茗香茶庄's distributors; tea_d4 read one."""
    tea = world.merchants[TEA]
    articles = [
        (
            "龙井的冲泡方法",
            "产品知识",
            "水温 80–85℃，玻璃杯下投法。\n\n第一泡 1 分钟，之后每泡加 20 秒。",
            True,
        ),
        (
            "朋友圈分享话术",
            "销售话术",
            "早上好！今年的明前龙井到了，豆香浓，回甘快。\n点我的链接下单，顺丰包邮。",
            True,
        ),
        ("中秋礼盒预告（草稿）", "活动", "礼盒内容待定。", False),
    ]
    for sort, (title, category, body, published) in enumerate(articles):
        material = Material.objects.create(
            merchant=tea,
            kind=Material.Kind.ARTICLE,
            title=title,
            category=category,
            body=body,
            sort=sort,
            is_published=published,
            published_at=world.now if published else None,
        )
        if sort == 0 and "tea_d4" in world.distributors:
            material_read_record(material=material, distributor=world.distributors["tea_d4"])
