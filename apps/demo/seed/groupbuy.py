"""The demo's group buying (拼团) in 茗香茶庄: a three-person group buy of white tea running now,
and an open group that carol opened and paid, waiting for two more people."""

from datetime import timedelta
from decimal import Decimal

from apps.groupbuy.services import group_open, groupbuy_create
from apps.products.models import Sku

from .orders import RECIPIENTS, _pay
from .world import TEA, DemoWorld


def create_group_buy(world: DemoWorld) -> None:
    tea = world.merchants[TEA]
    campaign = groupbuy_create(
        merchant=tea,
        sku=Sku.objects.get(merchant=tea, code="TEA-BMD-100"),
        name="白牡丹三人团",
        group_price=Decimal("69.00"),
        group_size=3,
        time_limit_hours=72,
        starts_at=world.now - timedelta(hours=1),
        ends_at=world.now + timedelta(days=14),
        per_person_limit=2,
    )
    carol = world.users["carol"]
    member = group_open(
        merchant=tea,
        customer=carol,
        campaign_id=campaign.pk,
        quantity=1,
        recipient=RECIPIENTS["carol"],
    )
    _pay(merchant=tea, customer=carol, order=member.order)
