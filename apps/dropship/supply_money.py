"""The supplier's money (供应商货款): owed at payment, frozen, released, taken back by refunds.

- **Owed** (``supply_shares_open``, on ``OrderPaid``, in the payment's transaction): one
  ``SupplyShare`` per supplied line, supply price × quantity, and one journal per order
  (``order:<id>:supply``): merchant_payable −S, supplier_frozen(s) +S per supplier.
- **Release date** (``supply_shares_schedule``, on ``OrderCompleted``): the same after-sale window
  as commission, the merchant's freeze days after completion.
- **Released** (``supply_share_release``, beat's ``supply_release_due``): a frozen share past its
  date, with no refund case open on its line, moves to the supplier's available balance — the
  rule commission release follows, under the same order lock.
- **Taken back** (``supply_claw_back_case``, on ``RefundCompleted``, in the refund's transaction):
  when the case says the supplier bears it, each refunded supplied line gives back its pro-rata
  part of the share (on the cumulative amount the supplier bore, as commission does: the pieces
  add up, a full refund takes back the whole share). From the frozen balance, or from the
  available one even below zero (a debt later sales settle). When the store bears it, the
  supplier keeps its share and only the refund's journal memo records the decision.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.commissions.models import CommissionPlan
from apps.commissions.payment_splits import DEFAULT_AFTER_SALE_DAYS
from apps.core.money import ZERO
from apps.core.state import compare_and_swap
from apps.ledger.models import SupplierWallet
from apps.ledger.posting import (
    SupplyOwed,
    ledger_post_supply_owed,
    ledger_post_supply_released,
    ledger_post_supply_reversed,
)
from apps.orders.models import Order, OrderLine
from apps.refunds import prorata
from apps.refunds.models import RefundCase, RefundCaseLine
from apps.refunds.selectors import refund_case_open_on_line

from .models import SupplyShare, SupplyShareReversal

Status = SupplyShare.Status


def supply_shares_open(*, order_id: int) -> list[SupplyShare]:
    """The order was paid: what each supplier is owed for its lines, frozen, in the ledger once.
    Harmless to run twice (one share per line, one journal per order)."""
    lines = list(
        OrderLine.objects.filter(order_id=order_id, supplier__isnull=False)
        .order_by("id")
        .values_list("pk", "merchant_id", "supplier_id", "supply_unit_price", "quantity")
    )
    if not lines:
        return []
    merchant_id = lines[0][1]
    SupplyShare.objects.bulk_create(
        [
            SupplyShare(
                merchant_id=merchant_id,
                order_id=order_id,
                order_line_id=line_id,
                supplier_id=supplier_id,
                amount=(unit_price or ZERO) * quantity,
            )
            for line_id, _merchant, supplier_id, unit_price, quantity in lines
        ],
        ignore_conflicts=True,
    )
    shares = list(SupplyShare.objects.filter(order_id=order_id).order_by("id"))
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for share in shares:
        owed[share.supplier_id] += share.amount
    ledger_post_supply_owed(
        merchant_id=merchant_id,
        order_id=order_id,
        payment_id=None,
        owed=[SupplyOwed(supplier_id, amount) for supplier_id, amount in sorted(owed.items())],
    )
    return shares


def after_sale_window(*, merchant_id: int) -> timedelta:
    """The merchant's after-sale window: its commission plan's freeze days (commission's too)."""
    days = (
        CommissionPlan.objects.filter(merchant_id=merchant_id)
        .values_list("freeze_days", flat=True)
        .first()
    )
    return timedelta(days=DEFAULT_AFTER_SALE_DAYS if days is None else days)


def supply_shares_schedule(*, order_id: int) -> int:
    """The order completed: its frozen shares release when the after-sale window closes."""
    order = Order.objects.only("merchant_id", "completed_at").get(pk=order_id)
    release_at = (order.completed_at or timezone.now()) + after_sale_window(
        merchant_id=order.merchant_id
    )
    return SupplyShare.objects.filter(
        order_id=order_id, status=Status.FROZEN, release_at__isnull=True
    ).update(release_at=release_at)


def supply_share_release(*, share_id: int, now=None) -> bool:  # type: ignore[no-untyped-def]
    """Release one frozen share past its date whose line has no open refund case (what refunds
    left of it). True if it moved. The order row is locked first, as every refund path does."""
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            SupplyShare.objects.filter(pk=share_id).values_list("order_id", "order_line_id").first()
        )
        if found is None:
            return False
        order_id, order_line_id = found
        list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
        if refund_case_open_on_line(order_line_id=order_line_id):
            return False
        if not compare_and_swap(
            SupplyShare.objects.filter(release_at__lte=now),
            pk=share_id,
            field="status",
            old=Status.FROZEN,
            new=Status.RELEASED,
            released_at=now,
        ):
            return False
        share = SupplyShare.objects.get(pk=share_id)
        ledger_post_supply_released(
            merchant_id=share.merchant_id,
            supply_share_id=share.pk,
            supplier_id=share.supplier_id,
            order_id=share.order_id,
            amount=share.kept,
            at=now,
        )
    return True


def supply_release_due(*, now=None, limit: int = 1000) -> int:  # type: ignore[no-untyped-def]
    """Beat's job: release every frozen share whose after-sale window closed."""
    now = now or timezone.now()
    due = list(
        SupplyShare.objects.filter(status=Status.FROZEN, release_at__lte=now)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(supply_share_release(share_id=share_id, now=now) for share_id in due)


class SupplyClawbackConflict(RuntimeError):
    """A share changed under a clawback that held the order lock: the lock protocol was broken."""


def supply_claw_back_case(*, refund_case_id: int) -> list[SupplyShareReversal]:
    """A refund case turned refunded: if the supplier bears it, each of its supplied lines gives
    back what the supplier-borne refunds of the line have not taken yet. The caller holds the
    transaction and the order's lock."""
    case = RefundCase.objects.only("supply_borne_by", "status").get(pk=refund_case_id)
    if (
        case.status != RefundCase.Status.REFUNDED
        or case.supply_borne_by != RefundCase.SupplyBorneBy.SUPPLIER
    ):
        return []
    line_ids = sorted(
        RefundCaseLine.objects.filter(case_id=refund_case_id).values_list(
            "order_line_id", flat=True
        )
    )
    shares = list(
        SupplyShare.objects.select_for_update()
        .filter(order_line_id__in=line_ids)
        .select_related("order_line")
        .order_by("pk")
    )
    if not shares:
        return []
    list(
        SupplierWallet.objects.select_for_update()
        .filter(merchant_id=shares[0].merchant_id, supplier_id__in={s.supplier_id for s in shares})
        .order_by("supplier_id")
        .values_list("pk", flat=True)
    )
    created: list[SupplyShareReversal] = []
    for share in shares:
        created += _claw_back_share(share)
    return created


def _claw_back_share(share: SupplyShare) -> list[SupplyShareReversal]:
    if share.status == Status.CANCELLED:
        return []
    borne = list(
        RefundCaseLine.objects.filter(
            order_line_id=share.order_line_id,
            case__status=RefundCase.Status.REFUNDED,
            case__supply_borne_by=RefundCase.SupplyBorneBy.SUPPLIER,
        )
        .order_by("case__refunded_at", "case_id")
        .values_list("case_id", "amount")
    )
    done = set(share.reversals.values_list("refund_case_id", flat=True))
    reversed_total = share.reversed_amount
    cumulative = ZERO
    created = []
    for case_id, amount in borne:
        cumulative += amount
        if case_id in done:
            continue
        part = prorata.commission_reversal(
            record_amount=share.amount,
            already_reversed=reversed_total,
            line_paid=share.order_line.paid_amount,
            line_refunded=cumulative,
        )
        if part <= ZERO:
            continue
        reversed_total += part
        created.append(
            SupplyShareReversal.objects.create(
                merchant_id=share.merchant_id,
                share=share,
                refund_case_id=case_id,
                amount=part,
                from_status=share.status,
            )
        )
        ledger_post_supply_reversed(
            merchant_id=share.merchant_id,
            supply_share_id=share.pk,
            supplier_id=share.supplier_id,
            order_id=share.order_id,
            refund_case_id=case_id,
            amount=part,
            from_frozen=share.status == Status.FROZEN,
        )
    if reversed_total != share.reversed_amount:
        new_status = share.status
        if share.status == Status.FROZEN and reversed_total == share.amount:
            new_status = Status.CANCELLED
        swapped = SupplyShare.objects.filter(
            pk=share.pk, status=share.status, reversed_amount=share.reversed_amount
        ).update(status=new_status, reversed_amount=reversed_total)
        if swapped != 1:
            raise SupplyClawbackConflict(f"supply share {share.pk} changed during its clawback")
        share.status, share.reversed_amount = new_status, reversed_total
    return created
