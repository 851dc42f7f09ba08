"""The suppliers' money in the ledger's check (``manage.py ledger_check``).

- every paid supplied order line has exactly one supplier's share, of its supply price ×
  quantity, and no other line has one;
- per order and supplier, the supplier_frozen and supplier_available legs of the supply journals
  (owed, released, taken back) sum to what refunds left of its frozen and its released shares,
  and the taken-back rows add up to each share's reversed amount: a refund reversed exactly, never
  one side without the other;
- nothing released early: a released share has a release date (its order completed), and was
  released at or after it;
- per order, what the consumer paid is what the merchant, the suppliers, the distributors and the
  platform (fee) keep plus what was refunded, summed over the order's journals.
"""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Q, Sum

from apps.core.money import ZERO
from apps.ledger.checks import ledger_check, ledger_count, merchant_scope
from apps.ledger.models import Journal, LedgerEntry
from apps.orders.models import OrderLine
from apps.payments.models import Payment
from apps.refunds.models import RefundCase

from .models import SupplyShare

Account = LedgerEntry.Account
SUPPLY_KINDS = (
    Journal.Kind.SUPPLY_OWED,
    Journal.Kind.SUPPLY_RELEASED,
    Journal.Kind.SUPPLY_REVERSED,
)
MONEY_TAKEN = (Payment.Status.SUCCEEDED, Payment.Status.REFUND_REQUIRED, Payment.Status.REFUNDED)


@ledger_check
def _one_share_per_paid_supplied_line(merchant_id: int | None) -> Iterator[str]:
    shares = {
        line_id: (pk, amount)
        for pk, line_id, amount in SupplyShare.objects.filter(
            merchant_scope(merchant_id)
        ).values_list("pk", "order_line_id", "amount")
    }
    lines = OrderLine.objects.filter(
        merchant_scope(merchant_id), supplier__isnull=False, order__paid_at__isnull=False
    ).values_list("pk", "supply_unit_price", "quantity")
    for line_id, unit_price, quantity in lines.iterator():
        found = shares.pop(line_id, None)
        if unit_price is None:
            yield f"paid supplied order line {line_id} has no supply price"
            continue
        owed = unit_price * quantity
        if found is None:
            yield f"paid supplied order line {line_id} ({owed} owed) has no supplier's share"
        elif found[1] != owed:
            yield f"supplier's share {found[0]} is {found[1]}, its line {line_id} owes {owed}"
    for line_id, (pk, amount) in sorted(shares.items()):
        yield f"supplier's share {pk} ({amount}) on line {line_id}, not a paid supplied line"


@ledger_check
def _shares_match_their_legs(merchant_id: int | None) -> Iterator[str]:
    legs: dict[tuple[int, int, str], Decimal] = {
        (order_id, supplier_id, account): total
        for order_id, supplier_id, account, total in LedgerEntry.objects.filter(
            merchant_scope(merchant_id),
            journal__kind__in=SUPPLY_KINDS,
            account__in=[Account.SUPPLIER_FROZEN, Account.SUPPLIER_AVAILABLE],
        )
        .values("journal__order_id", "supplier_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("journal__order_id", "supplier_id", "account", "total")
    }
    expected: dict[tuple[int, int, str], Decimal] = defaultdict(lambda: ZERO)
    shares = SupplyShare.objects.filter(merchant_scope(merchant_id)).annotate(
        taken=Sum("reversals__amount", default=ZERO)
    )
    for share in shares.iterator():
        if share.taken != share.reversed_amount:
            yield (
                f"supplier's share {share.pk}: {share.reversed_amount} taken back, its refund "
                f"rows sum to {share.taken}"
            )
        if share.status == SupplyShare.Status.FROZEN:
            expected[(share.order_id, share.supplier_id, Account.SUPPLIER_FROZEN)] += share.kept
        elif share.status == SupplyShare.Status.RELEASED:
            expected[(share.order_id, share.supplier_id, Account.SUPPLIER_AVAILABLE)] += share.kept
        if share.status == SupplyShare.Status.RELEASED and (
            share.release_at is None
            or share.released_at is None
            or share.released_at < share.release_at
        ):
            yield (
                f"supplier's share {share.pk} released at {share.released_at}, before its "
                f"release date {share.release_at}"
            )
    for key in sorted(set(legs) | set(expected)):
        if legs.get(key, ZERO) != expected.get(key, ZERO):
            order_id, supplier_id, account = key
            yield (
                f"order {order_id}, supplier {supplier_id}: {account} legs sum to "
                f"{legs.get(key, ZERO)}, its shares hold {expected.get(key, ZERO)}"
            )


@ledger_check
def _consumer_paid_is_everyones_share(merchant_id: int | None) -> Iterator[str]:
    """paid = merchant + suppliers + distributors + platform fee + refunds, per order: the
    payments' and refund cases' own amounts against every non-provider leg of the order's
    journals (payment, commission, supply, refund, split)."""
    paid = dict(
        Payment.objects.filter(
            merchant_scope(merchant_id), status__in=MONEY_TAKEN, order__isnull=False
        )
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    refunded = dict(
        RefundCase.objects.filter(merchant_scope(merchant_id), status=RefundCase.Status.REFUNDED)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    kept = dict(
        LedgerEntry.objects.filter(merchant_scope(merchant_id), journal__order__isnull=False)
        .filter(~Q(account=Account.PROVIDER))
        .values("journal__order_id")
        .annotate(total=Sum("amount"))
        .values_list("journal__order_id", "total")
    )
    for order_id, total in sorted(paid.items()):
        parts = kept.get(order_id, ZERO) + refunded.get(order_id, ZERO)
        if parts != total:
            yield (
                f"order {order_id}: the consumer paid {total}, the merchant, suppliers, "
                f"distributors and platform keep {kept.get(order_id, ZERO)} and "
                f"{refunded.get(order_id, ZERO)} was refunded"
            )


ledger_count(
    "supplier's shares",
    lambda merchant_id: SupplyShare.objects.filter(merchant_scope(merchant_id)),
)
