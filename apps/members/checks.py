"""Invariants of the points ledger, run by ``manage.py ledger_check`` beside the money ledger."""

from django.db.models import Sum

from .models import Member, PointsEntry


def points_breaches(*, merchant_id: int | None = None) -> list[str]:
    """Every member's balance equals the sum of their entries and the unspent part of their lots;
    nothing negative. One line per breach."""
    members = Member.objects.all()
    entries = PointsEntry.objects.all()
    if merchant_id is not None:
        members = members.filter(merchant_id=merchant_id)
        entries = entries.filter(merchant_id=merchant_id)
    sums = {
        row["member_id"]: row
        for row in entries.values("member_id").annotate(
            total=Sum("points"), unspent=Sum("remaining")
        )
    }
    breaches = []
    for member_id, balance in members.values_list("id", "points_balance"):
        row = sums.get(member_id, {"total": 0, "unspent": 0})
        if balance != (row["total"] or 0):
            breaches.append(
                f"member {member_id}: points balance {balance} ≠ entries {row['total'] or 0}"
            )
        if balance != (row["unspent"] or 0):
            breaches.append(
                f"member {member_id}: points balance {balance} ≠ unspent lots {row['unspent'] or 0}"
            )
    return breaches
