"""Commission clawback (追回) when a refund of an order line succeeds.

Each commission record on the line gives back its pro-rata share of the refunded amount
(``prorata.commission_reversal``, on the cumulative refunded amount, so that pieces add up and a
full refund takes back the record exactly). A frozen record is reduced, and cancelled when nothing
is left; a released one is reversed on the available balance, even below zero (the debt is taken
from the next withdrawal). Each (record, refund) is reversed once: ``CommissionReversal`` is
unique on it.

Only commissions changes a commission record: a refund case turning refunded publishes
``RefundCompleted`` (``apps.refunds.events``), and ``handlers.claw_back_when_refunded`` runs
``commissions_claw_back_lines`` in the refund's transaction; settlement runs
``commissions_claw_back_order`` for refunds that came before the records existed. Both hold the
order lock, which commission release takes too. Each record changes by a compare-and-swap on the
status and reversed amount it was read with (under its row lock, so a lost swap is a bug, and
raises).
"""

from decimal import Decimal

from apps.core.money import ZERO
from apps.ledger.models import Wallet
from apps.ledger.posting import ledger_post_commission_reversed
from apps.orders.models import OrderLine
from apps.refunds import prorata
from apps.refunds.models import RefundCase, RefundCaseLine

from .models import CommissionRecord, CommissionReversal


class ClawbackConflict(RuntimeError):
    """A record changed under a clawback that held its lock: the lock protocol was broken."""


def clawback_lock(*, order_line_ids: list[int]) -> None:
    """Lock the lines' commission records (by id) and then their beneficiaries' wallets (by
    distributor id) before any clawback posts: the journals go record by record, child before
    ancestor, and would otherwise take wallet locks in the reverse of the order settlement and
    splits take them in (a deadlock between a refund and a settlement of the same team)."""
    records = (
        CommissionRecord.objects.select_for_update()
        .filter(order_line_id__in=order_line_ids)
        .order_by("pk")
    )
    beneficiaries = sorted(
        {beneficiary for beneficiary in records.values_list("beneficiary_id", flat=True)}
    )
    list(
        Wallet.objects.select_for_update()
        .filter(distributor_id__in=beneficiaries)
        .order_by("distributor_id")
        .values_list("pk", flat=True)
    )


def commissions_claw_back_line(*, order_line: OrderLine) -> list[CommissionReversal]:
    """Reverse, on each record of the line, what its refunded cases have not taken back yet.
    The caller holds the transaction and the order's lock."""
    refunded = list(
        RefundCaseLine.objects.filter(
            order_line=order_line, case__status=RefundCase.Status.REFUNDED
        )
        .order_by("case__refunded_at", "case_id")
        .values_list("case_id", "amount")
    )
    if not refunded:
        return []
    clawback_lock(order_line_ids=[order_line.pk])
    records = list(CommissionRecord.objects.filter(order_line=order_line).order_by("pk"))
    if not records:
        return []
    done = set(
        CommissionReversal.objects.filter(record__in=records).values_list(
            "record_id", "refund_case_id"
        )
    )
    created = []
    for record in records:
        if record.status == CommissionRecord.Status.CANCELLED:
            continue  # nothing of it was ever paid out, nothing to take back
        reversed_total = record.reversed_amount
        cumulative = ZERO
        for case_id, amount in refunded:
            cumulative += amount
            if (record.pk, case_id) in done:
                continue
            part = prorata.commission_reversal(
                record_amount=record.amount,
                already_reversed=reversed_total,
                line_paid=order_line.paid_amount,
                line_refunded=cumulative,
            )
            if part <= ZERO:
                continue
            reversed_total += part
            reversal = CommissionReversal.objects.create(
                merchant_id=record.merchant_id,
                record=record,
                refund_case_id=case_id,
                beneficiary_id=record.beneficiary_id,
                amount=part,
                from_status=record.status,
            )
            ledger_post_commission_reversed(
                merchant_id=record.merchant_id,
                commission_id=record.pk,
                distributor_id=record.beneficiary_id,
                order_id=record.order_id,
                refund_case_id=case_id,
                amount=part,
                from_frozen=record.status == CommissionRecord.Status.FROZEN,
            )
            created.append(reversal)
        if reversed_total != record.reversed_amount:
            _record_reduce(record=record, reversed_total=reversed_total)
    return created


def _record_reduce(*, record: CommissionRecord, reversed_total: Decimal) -> None:
    """Compare-and-swap the record from what it was read as to ``reversed_total`` taken back;
    a frozen record with nothing left is cancelled."""
    new_status = record.status
    if record.status == CommissionRecord.Status.FROZEN and reversed_total == record.amount:
        new_status = CommissionRecord.Status.CANCELLED
    swapped = CommissionRecord.objects.filter(
        pk=record.pk, status=record.status, reversed_amount=record.reversed_amount
    ).update(status=new_status, reversed_amount=reversed_total)
    if swapped != 1:
        raise ClawbackConflict(f"commission record {record.pk} changed during its clawback")
    record.status = new_status
    record.reversed_amount = reversed_total


def commissions_claw_back_lines(*, order_line_ids: list[int]) -> list[CommissionReversal]:
    """A refund completed on these lines: lock their records and wallets, then reverse on each
    record what the line's refunded cases have not taken back yet. The caller holds the
    transaction and the order's lock."""
    clawback_lock(order_line_ids=sorted(order_line_ids))
    created: list[CommissionReversal] = []
    for line in OrderLine.objects.filter(pk__in=order_line_ids).order_by("pk"):
        created += commissions_claw_back_line(order_line=line)
    return created


def commissions_claw_back_order(*, order_id: int) -> list[CommissionReversal]:
    """Settlement's hook: records just created on lines refunded earlier give back their share."""
    line_ids = set(
        RefundCaseLine.objects.filter(
            case__order_id=order_id, case__status=RefundCase.Status.REFUNDED
        ).values_list("order_line_id", flat=True)
    )
    if not line_ids:
        return []
    return commissions_claw_back_lines(order_line_ids=sorted(line_ids))
