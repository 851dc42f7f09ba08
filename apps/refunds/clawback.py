"""Commission clawback (追回) when a refund of an order line succeeds.

Each commission record on the line gives back its pro-rata share of the refunded amount
(``prorata.commission_reversal``, on the cumulative refunded amount, so that pieces add up and a
full refund takes back the record exactly). A frozen record is reduced, and cancelled when nothing
is left; a released one is reversed on the available balance, even below zero (the debt is taken
from the next withdrawal). Each (record, refund) is reversed once: ``CommissionReversal`` is
unique on it.

Run by the refund (after its case turned refunded) and by settlement (for refunds that came before
the records existed); both hold the order lock, which commission release takes too.
"""

from apps.commissions.models import CommissionRecord, CommissionReversal, Wallet
from apps.core.money import ZERO
from apps.orders.models import OrderLine

from . import prorata
from .ledger import post_clawback
from .models import RefundCase, RefundCaseLine


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
            post_clawback(reversal=reversal, record=record)
            created.append(reversal)
        if reversed_total != record.reversed_amount:
            updates: dict = {"reversed_amount": reversed_total}
            if record.status == CommissionRecord.Status.FROZEN and reversed_total == record.amount:
                updates["status"] = CommissionRecord.Status.CANCELLED
            CommissionRecord.objects.filter(pk=record.pk).update(**updates)
    return created


def commissions_claw_back_order(*, order_id: int) -> list[CommissionReversal]:
    """Settlement's hook: records just created on lines refunded earlier give back their share."""
    line_ids = set(
        RefundCaseLine.objects.filter(
            case__order_id=order_id, case__status=RefundCase.Status.REFUNDED
        ).values_list("order_line_id", flat=True)
    )
    created: list[CommissionReversal] = []
    if not line_ids:
        return created
    clawback_lock(order_line_ids=sorted(line_ids))
    for line in OrderLine.objects.filter(pk__in=line_ids).order_by("pk"):
        created += commissions_claw_back_line(order_line=line)
    return created


__all__ = ["clawback_lock", "commissions_claw_back_line", "commissions_claw_back_order"]
