"""售后: refund cases from request to the provider's confirmation, by concept:

- ``cases``: a case's states and transitions (one compare-and-swap with a history row), the lock
  protocol, what an order still allows to refund, and who may reach a case;
- ``requesting``: opening a case (the consumer's request of an order, a line, units or an amount;
  the merchant's refund in full of a paid, unshipped order, e.g. a group buy that failed to fill)
  and the consumer withdrawing a request;
- ``decisions``: the merchant rejects or approves, and an approved case is handed to the provider
  (beat's sweeper hands it again);
- ``outcomes``: the provider's word (its notification, or its answer to a query) and what a
  refunded case does: stock, commission clawback (through ``RefundCompleted``), the ledger, member
  points, the order's own state;
- ``unclaimed``: money that arrived for a closed order (or a superseded checkout), given back.

In short: requesting is bounded, under the order lock, by what is still refundable (paid minus
every case that is open or refunded), so concurrent cases can never exceed it. Approving is a
compare-and-swap requested → approved; only the winner asks the provider, with the case's
idempotency key, so a double approval (or a retry after a crash) is one provider refund. The
provider's notification makes refunding → refunded a compare-and-swap in the transaction that
returns stock (once), claws commission back and writes the ledger; a duplicate finds the case
refunded and changes nothing.

Everything is importable from ``apps.refunds.services``, which is what other apps use.
"""

from .cases import (
    MAX_REASON,
    REFUND_TRANSITIONS,
    REFUNDABLE_ORDER_STATUSES,
    LineRefundable,
    refund_get_for_customer,
    refund_get_for_merchant,
    refund_transition,
    refundable_lines,
)
from .decisions import refund_approve, refund_execute, refund_reject, refunds_stuck_approved
from .outcomes import refund_handle_notification, refund_query_outcome, refunds_stuck_refunding
from .requesting import RefundLineRequest, refund_cancel, refund_open_in_full, refund_request
from .unclaimed import payment_refund_superseded, payment_refund_unclaimed

__all__ = [
    "MAX_REASON",
    "REFUNDABLE_ORDER_STATUSES",
    "REFUND_TRANSITIONS",
    "LineRefundable",
    "RefundLineRequest",
    "payment_refund_superseded",
    "payment_refund_unclaimed",
    "refund_approve",
    "refund_cancel",
    "refund_execute",
    "refund_get_for_customer",
    "refund_get_for_merchant",
    "refund_handle_notification",
    "refund_open_in_full",
    "refund_query_outcome",
    "refund_reject",
    "refund_request",
    "refund_transition",
    "refundable_lines",
    "refunds_stuck_approved",
    "refunds_stuck_refunding",
]
