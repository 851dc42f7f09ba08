"""The merchant's decision on a requested case, and handing an approved case to the provider.

Approving is a compare-and-swap requested → approved: of two approvals at once only the winner
asks the provider, with the case's idempotency key, so a double approval is one provider refund.
The provider executes one refund per key, so a retry after a crash (beat's sweeper) cannot refund
twice either.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.merchants.models import Merchant
from apps.payments.providers import RefundRefused

from ..models import RefundCase
from .cases import (
    S,
    case_with_provider,
    checked_reason,
    lock_case,
    refund_get_for_merchant,
    refund_transition,
)

logger = logging.getLogger(__name__)


def _decide(
    *, merchant: Merchant, case_id: int, new: str, actor: User | None, reason: str, **updates
) -> RefundCase:
    """requested → ``new`` under the order and case locks; a case decided already is refused."""
    case = refund_get_for_merchant(merchant=merchant, case_id=case_id)
    with transaction.atomic():
        case = lock_case(case)
        if case.status != S.REQUESTED:
            raise Conflict(_("This refund was already decided."), code="invalid_transition")
        refund_transition(
            case=case,
            new=new,
            actor=actor,
            reason=reason,
            merchant_reason=reason,
            decided_at=timezone.now(),
            **updates,
        )
    return case


def refund_reject(
    *, merchant: Merchant, case_id: int, actor: User | None, reason: str
) -> RefundCase:
    reason = checked_reason(reason)
    return _decide(merchant=merchant, case_id=case_id, new=S.REJECTED, actor=actor, reason=reason)


def refund_approve(
    *,
    merchant: Merchant,
    case_id: int,
    actor: User | None,
    reason: str = "",
    supply_borne_by: str | None = None,
) -> RefundCase:
    """Approve and ask the provider to refund. Of two approvals at once, one wins; the other is
    refused (409) and asks nothing of the provider. ``supply_borne_by`` (a
    ``RefundCase.SupplyBorneBy``; None keeps the case's) says who bears the refund of supplied
    lines: the supplier gives back its share, or the store absorbs it."""
    reason = checked_reason(reason, required=False)
    borne = {} if supply_borne_by is None else {"supply_borne_by": supply_borne_by}
    if supply_borne_by is not None and supply_borne_by not in RefundCase.SupplyBorneBy.values:
        raise DomainError(
            _("Say whether the supplier or the store bears the refund."), code="invalid_borne_by"
        )
    case = _decide(
        merchant=merchant, case_id=case_id, new=S.APPROVED, actor=actor, reason=reason, **borne
    )
    refund_execute(case_id=case.pk)
    case.refresh_from_db()
    return case


def refund_execute(*, case_id: int) -> str:
    """Ask the provider to refund an approved case (again, after a failure to reach it: the same
    idempotency key is the same refund). Returns "refunding", "failed" (refused), "pending" (the
    provider could not be reached; the case stays approved and beat's sweeper asks again) or
    "skipped" (not approved any more)."""
    case, provider = case_with_provider(case_id, status=S.APPROVED)
    if case is None or provider is None:
        return "skipped"
    try:
        answer = provider.refund(case.payment, case.amount, case.idempotency_key)
    except RefundRefused as error:
        with transaction.atomic():
            case = lock_case(case)
            if case.status == S.APPROVED:
                refund_transition(
                    case=case, new=S.FAILED, reason=str(error), failure_reason=str(error)[:255]
                )
        return "failed"
    except Exception:  # noqa: BLE001 - the outcome is unknown: beat asks again with the same key
        logger.exception("refund %s: the provider could not be reached", case.idempotency_key)
        return "pending"
    with transaction.atomic():
        case = lock_case(case)
        if case.status == S.APPROVED:
            refund_transition(
                case=case, new=S.REFUNDING, provider_refund_no=answer.provider_refund_no
            )
    return "refunding"


def refunds_stuck_approved(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Approved cases never handed to the provider (a crash, the provider unreachable)."""
    cutoff = timezone.now() - older_than
    return list(
        RefundCase.objects.filter(status=S.APPROVED, decided_at__lte=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
