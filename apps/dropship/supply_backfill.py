"""The suppliers' money for orders paid before it existed (``manage.py supply_backfill``).

Orders paid before the supplier's share was kept in the ledger have supplied lines without a
``SupplyShare`` or an ``order:<id>:supply`` journal, and ``ledger_check`` reports them. The backfill
replays, per order and in the store's scope, what the live paths would have done since, through
the same services (no second implementation of the money):

1. owed at payment (``supply_shares_open``): one share per supplied line, one journal, frozen;
2. the release date, if the order completed (``supply_shares_schedule``): completion + the plan's
   freeze days;
3. the refunds already made, oldest first (``supply_claw_back_case``): those the supplier bears
   (the case's ``supply_borne_by``) take their pro-rata part back, on the running total;
4. the release (``supply_share_release``) of each share whose window has closed and whose line has
   no open refund case.

The supplier's balances end where the live paths would have left them; the journals are dated
when the backfill posts them (a closed period's report does not change). Each order is one
transaction under the order's row lock (the lock every refund path takes first), so the backfill
can run on a live site; an order that has its shares already is left alone, so running it twice
posts nothing the second time. ``dry_run`` does the same work and rolls it back: the figures are
exactly what a real run would post.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.core.money import ZERO
from apps.ledger.models import Journal
from apps.orders.models import Order, OrderLine
from apps.refunds.models import RefundCase
from apps.tenancy.scope import platform_scope, tenant_scope

from .models import SupplyShare
from .supply_money import (
    supply_claw_back_case,
    supply_share_release,
    supply_shares_open,
    supply_shares_schedule,
)


@dataclass(frozen=True)
class BackfilledOrder:
    """What the backfill posted for one order (or would post, in a dry run), or why it did not."""

    merchant_id: int
    order_id: int
    number: str
    owed: Decimal = ZERO  # the shares opened: supply price × quantity of each supplied line
    taken_back: Decimal = ZERO  # by the refunds the supplier bore
    released: Decimal = ZERO  # moved to the supplier's available balance
    suppliers: tuple[int, ...] = field(default=())
    refused: str = ""  # the order needs a person: nothing was posted for it

    @property
    def frozen(self) -> Decimal:
        return self.owed - self.taken_back - self.released


def supply_backfill_pending(*, merchant_id: int | None = None) -> list[tuple[int, int]]:
    """(merchant, order) of every paid order with a supplied line that has no share, oldest first.
    Read across stores in the logged platform scope (the operator's command)."""
    with platform_scope(reason="supply backfill: paid supplied lines without a supplier's share"):
        lines = OrderLine.objects.filter(
            supplier__isnull=False, order__paid_at__isnull=False, supply_share__isnull=True
        )
        if merchant_id is not None:
            lines = lines.filter(merchant_id=merchant_id)
        return list(
            lines.order_by("merchant_id", "order_id")
            .values_list("merchant_id", "order_id")
            .distinct()
        )


class _DryRun(Exception):
    def __init__(self, result: BackfilledOrder):
        self.result = result


def supply_backfill_order(
    *, merchant_id: int, order_id: int, dry_run: bool = False, now: datetime | None = None
) -> BackfilledOrder | None:
    """Post the missing suppliers' money of one order, in its store's scope and one transaction.
    None when the order has nothing missing (any more)."""
    now = now or timezone.now()
    try:
        with tenant_scope(merchant_id=merchant_id), transaction.atomic():
            result = _backfill(merchant_id=merchant_id, order_id=order_id, now=now)
            if dry_run and result is not None and not result.refused:
                raise _DryRun(result)
    except _DryRun as rolled_back:
        return rolled_back.result
    return result


def _backfill(*, merchant_id: int, order_id: int, now: datetime) -> BackfilledOrder | None:
    order = (
        Order.objects.select_for_update()
        .only("merchant_id", "number", "paid_at", "completed_at")
        .filter(pk=order_id, merchant_id=merchant_id)
        .first()
    )
    if order is None or order.paid_at is None:
        return None
    missing = OrderLine.objects.filter(
        order_id=order_id, supplier__isnull=False, supply_share__isnull=True
    )
    if not missing.exists():
        return None
    if Journal.objects.filter(merchant_id=merchant_id, key=f"order:{order_id}:supply").exists():
        # Shares lost after their journal was posted: posting again is impossible (the key) and
        # opening shares without legs would be a second error. A person looks at it.
        return BackfilledOrder(
            merchant_id=merchant_id,
            order_id=order_id,
            number=order.number,
            refused="its supply journal was posted but supplied lines have no share",
        )

    supply_shares_open(order_id=order_id)
    if order.completed_at is not None:
        supply_shares_schedule(order_id=order_id)
    refunded = RefundCase.objects.filter(
        order_id=order_id, status=RefundCase.Status.REFUNDED
    ).order_by("refunded_at", "id")
    for case_id in refunded.values_list("pk", flat=True):
        supply_claw_back_case(refund_case_id=case_id)
    due = SupplyShare.objects.filter(
        order_id=order_id, status=SupplyShare.Status.FROZEN, release_at__lte=now
    ).order_by("id")
    for share_id in due.values_list("pk", flat=True):
        supply_share_release(share_id=share_id, now=now)

    shares = list(SupplyShare.objects.filter(order_id=order_id).order_by("id"))
    return BackfilledOrder(
        merchant_id=merchant_id,
        order_id=order_id,
        number=order.number,
        owed=sum((share.amount for share in shares), ZERO),
        taken_back=sum((share.reversed_amount for share in shares), ZERO),
        released=sum(
            (share.kept for share in shares if share.status == SupplyShare.Status.RELEASED), ZERO
        ),
        suppliers=tuple(sorted({share.supplier_id for share in shares})),
    )


def supply_backfill(
    *, merchant_id: int | None = None, dry_run: bool = False, now: datetime | None = None
) -> Iterator[BackfilledOrder]:
    """Every pending order, one transaction each (what is posted stays posted if a later order
    fails). Yields what each order got, or why it was refused."""
    for order_merchant_id, order_id in supply_backfill_pending(merchant_id=merchant_id):
        result = supply_backfill_order(
            merchant_id=order_merchant_id, order_id=order_id, dry_run=dry_run, now=now
        )
        if result is not None:
            yield result
