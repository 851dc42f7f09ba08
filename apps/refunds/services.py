"""售后: refund cases from request to the provider's confirmation.

Lock protocol (shared with commission release and settlement): every path that changes what is
refunded, or that releases commission on an order, first locks the ORDER row, then the case, then
the commission records (id order), then wallets (distributor id order). So a request, an approval,
a provider notification and beat's release of a record on the same order run one after the other,
and each sees what the previous one committed.

- Requesting: under the order lock, what is still refundable (paid minus every case that is open or
  refunded) bounds the request, so concurrent cases can never exceed it.
- Approving: a compare-and-swap requested → approved; only the winner asks the provider, with the
  case's idempotency key, so a double approval is one provider refund. The provider executes one
  refund per key, so a retry after a crash (beat's sweeper) cannot refund twice either.
- The provider's notification: refunding → refunded is a compare-and-swap in the transaction that
  returns stock (once), claws commission back and writes the ledger; a duplicate finds the case
  refunded and changes nothing.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO, NotTwoPlaces, parse_two_places
from apps.core.state import compare_and_swap, transition
from apps.ledger.posting import (
    SUPPLY_BORNE_BY_MERCHANT,
    SUPPLY_BORNE_BY_SUPPLIER,
    ledger_post_refund,
)
from apps.marketing.services import pricing_release
from apps.members.services import member_order_refunded
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderLine
from apps.orders.services import order_get_for_customer, order_transition
from apps.payments.models import Payment
from apps.payments.providers import (
    InvalidNotification,
    PaymentProvider,
    ProviderError,
    ProviderUnavailable,
    RefundNotification,
    RefundRefused,
    provider_get,
)
from apps.products.services import sku_return_stock

from . import prorata
from .events import RefundCompleted, RefundStatusChanged
from .models import RefundCase, RefundCaseLine, RefundStatusChange

logger = logging.getLogger(__name__)
S = RefundCase.Status
K = RefundCase.Kind
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    # approved → refunded: the notification may overtake the recording of the provider's answer.
    S.APPROVED: frozenset({S.REFUNDING, S.REFUNDED, S.FAILED}),
    S.REFUNDING: frozenset({S.REFUNDED, S.FAILED}),
    S.REJECTED: frozenset(),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}
REFUNDABLE_ORDER_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED)
MAX_REASON = 255


@dataclass(frozen=True)
class RefundLineRequest:
    """One line of a request: ``quantity`` units, or ``amount`` of its paid amount (kind AMOUNT)."""

    order_line_id: int
    quantity: int | None = None
    amount: Decimal | str | None = None


@dataclass(frozen=True)
class LineRefundable:
    """What is left to refund on one order line."""

    line: OrderLine
    amount: Decimal  # paid amount not held by an open or refunded case
    units: int  # units not held by an open or refunded case
    units_held: int


def _lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _held_by_line(order_id: int) -> dict[int, tuple[Decimal, int]]:
    """(amount, units) per order line held by open or refunded cases."""
    rows = (
        RefundCaseLine.objects.filter(
            case__order_id=order_id, case__status__in=RefundCase.HOLDING_STATUSES
        )
        .values("order_line_id")
        .annotate(amount=Sum("amount"), units=Sum("quantity"))
    )
    return {row["order_line_id"]: (row["amount"], row["units"]) for row in rows}


def refundable_lines(*, order: Order) -> list[LineRefundable]:
    """What each line of the order still allows to refund (exact only under the order lock)."""
    held = _held_by_line(order.pk)
    result = []
    for line in OrderLine.objects.filter(order=order).order_by("id"):
        amount, units = held.get(line.pk, (ZERO, 0))
        result.append(
            LineRefundable(
                line=line,
                amount=line.paid_amount - amount,
                units=line.quantity - units,
                units_held=units,
            )
        )
    return result


def _shipping_held(order_id: int) -> bool:
    return RefundCase.objects.filter(
        order_id=order_id, status__in=RefundCase.HOLDING_STATUSES, shipping_amount__gt=0
    ).exists()


def _reason(value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Please give a reason."), code="reason_required")
    if len(value) > MAX_REASON:
        raise DomainError(_("The reason is too long."), code="reason_too_long")
    return value


def _money(value: object) -> Decimal:
    try:
        amount = parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(_("Enter an amount such as 12.50."), code="invalid_amount") from error
    if amount <= ZERO:
        raise DomainError(_("The amount must be more than zero."), code="invalid_amount")
    return amount


def _units(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DomainError(
            _("Quantity must be a whole number of at least 1."), code="invalid_quantity"
        )
    return value


def _status_changed(case: RefundCase) -> None:
    events.publish(
        RefundStatusChanged(
            merchant_id=case.merchant_id, refund_case_id=case.pk, status=case.status
        )
    )


def _opened(case: RefundCase, actor: User | None, reason: str) -> None:
    """The first history row of a new case, and the news of it."""
    RefundStatusChange.objects.create(
        merchant_id=case.merchant_id,
        case=case,
        from_status="",
        to_status=case.status,
        actor=actor,
        reason=reason[:MAX_REASON],
    )
    _status_changed(case)


def refund_transition(
    *, case: RefundCase, new: str, actor: User | None = None, reason: str = "", **updates
) -> bool:
    """Apply one transition as compare-and-swap from ``case.status`` with a history row; True if
    applied. Runs inside a transaction."""
    applied = transition(
        case,
        new,
        transitions=REFUND_TRANSITIONS,
        history=RefundStatusChange,
        history_field="case",
        actor=actor,
        reason=reason[:MAX_REASON],
        **updates,
    )
    if applied:
        _status_changed(case)
    return applied


# --- Requesting -------------------------------------------------------------------------------


def _build_lines(
    *, kind: str, refundable: list[LineRefundable], requested: list[RefundLineRequest]
) -> list[tuple[LineRefundable, int, Decimal]]:
    """(line, units, amount) per line of the request, each within what is still refundable."""
    by_id = {item.line.pk: item for item in refundable}
    if kind == K.ORDER:
        chosen = [(item, item.units, item.amount) for item in refundable if item.amount > ZERO]
        if not chosen:
            raise Conflict(_("Nothing is left to refund on this order."), code="nothing_refundable")
        return chosen
    if not requested:
        raise DomainError(_("Choose the item to refund."), code="line_required")
    seen: set[int] = set()
    chosen = []
    for wanted in requested:
        item = by_id.get(wanted.order_line_id)
        if item is None:
            raise NotFound(_("No such item in this order."), code="unknown_order_line")
        if item.line.pk in seen:
            raise DomainError(_("Each item can be named once."), code="duplicate_line")
        seen.add(item.line.pk)
        if item.amount <= ZERO:
            raise Conflict(
                _("Nothing is left to refund on “%(name)s”.") % {"name": item.line.product_name},
                code="nothing_refundable",
            )
        if kind == K.LINE:
            chosen.append((item, item.units, item.amount))
        elif kind == K.QUANTITY:
            units = _units(wanted.quantity)
            if units > item.units:
                raise Conflict(
                    _("At most %(n)d of “%(name)s” can still be refunded.")
                    % {"n": item.units, "name": item.line.product_name},
                    code="quantity_exceeds_refundable",
                )
            amount = (
                item.amount
                if units == item.units
                else min(
                    item.amount,
                    prorata.quantity_amount(
                        line_paid=item.line.paid_amount,
                        line_quantity=item.line.quantity,
                        units_before=item.units_held,
                        units=units,
                    ),
                )
            )
            chosen.append((item, units, amount))
        elif kind == K.AMOUNT:
            amount = _money(wanted.amount)
            if amount > item.amount:
                raise Conflict(
                    _("At most %(amount)s of “%(name)s” can still be refunded.")
                    % {"amount": item.amount, "name": item.line.product_name},
                    code="amount_exceeds_refundable",
                )
            chosen.append((item, 0, amount))
        else:
            raise DomainError(_("Unknown kind of refund."), code="invalid_kind")
    return [entry for entry in chosen if entry[2] > ZERO]


def refund_request(
    *,
    merchant: Merchant,
    customer: User,
    order_id: int,
    kind: str,
    reason: str,
    return_goods: bool = False,
    lines: list[RefundLineRequest] | None = None,
) -> RefundCase:
    """A consumer asks for a refund of a paid, shipped or completed order.

    ``kind``: ORDER (everything still refundable; shipping too while the order is unshipped),
    LINE (what is left of the named lines), QUANTITY (units of a line, worth their pro-rata share
    of its paid amount) or AMOUNT (an amount of a line's paid amount, goods kept). Shipping is
    refunded only with the whole order before it ships. Bounded, under the order lock, by what is
    not already held by an open or refunded case.
    """
    reason = _reason(reason)
    if kind not in (K.ORDER, K.LINE, K.QUANTITY, K.AMOUNT):
        raise DomainError(_("Unknown kind of refund."), code="invalid_kind")
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    with transaction.atomic():
        order = _lock_order(order.pk)
        if order.status not in REFUNDABLE_ORDER_STATUSES:
            raise Conflict(_("This order cannot be refunded."), code="not_refundable")
        payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise Conflict(_("This order has no payment to refund."), code="not_refundable")
        chosen = _build_lines(
            kind=kind, refundable=refundable_lines(order=order), requested=list(lines or [])
        )
        if not chosen:
            raise Conflict(_("Nothing is left to refund."), code="nothing_refundable")
        shipping = ZERO
        if kind == K.ORDER and order.status == Order.Status.PAID and not _shipping_held(order.pk):
            shipping = order.shipping_amount
        case = _case_create(
            order=order,
            payment=payment,
            kind=kind,
            reason=reason,
            return_goods=bool(return_goods) and kind != K.AMOUNT,
            chosen=chosen,
            shipping=shipping,
        )
        _opened(case, customer, reason)
    return case


def _case_create(
    *,
    order: Order,
    payment: Payment,
    kind: str,
    reason: str,
    return_goods: bool,
    chosen: list[tuple[LineRefundable, int, Decimal]],
    shipping: Decimal,
    status: str = S.REQUESTED,
) -> RefundCase:
    """Write a case and its lines (caller holds the order lock and has bounded ``chosen``)."""
    goods = sum((amount for _item, _units, amount in chosen), ZERO)
    case = RefundCase.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        payment=payment,
        customer_id=order.customer_id,
        kind=kind,
        status=status,
        reason=reason,
        return_goods=return_goods,
        goods_amount=goods,
        shipping_amount=shipping,
        amount=goods + shipping,
        provider=payment.provider,
        idempotency_key=f"RF{order.number}{secrets.token_hex(3).upper()}",
        decided_at=timezone.now() if status == S.APPROVED else None,
    )
    RefundCaseLine.objects.bulk_create(
        [
            RefundCaseLine(
                merchant_id=order.merchant_id,
                case=case,
                order_line=item.line,
                quantity=0 if kind == K.AMOUNT else units,
                amount=amount,
            )
            for item, units, amount in chosen
        ]
    )
    return case


def refund_open_in_full(
    *, merchant: Merchant, order_id: int, reason: str, actor: User | None = None
) -> RefundCase:
    """The merchant's side gives back everything still refundable on a paid, unshipped order,
    shipping included, with no request from the consumer (e.g. a group buy that failed to fill).

    The case is approved at once; the caller hands it to the provider with ``refund_execute``
    once its transaction commits (beat's sweeper asks again for a case left approved). Under the
    order lock, bounded like any request: a second call finds nothing left (Conflict
    ``nothing_refundable``), so an order is never refunded twice. On the provider's confirmation
    the order is cancelled, its stock, coupon and points come back and no commission is due, as
    for any full refund before shipping."""
    reason = _reason(reason)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(merchant=merchant, pk=order_id).first()
        if order is None:
            raise NotFound(_("No such order."), code="unknown_order")
        if order.status != Order.Status.PAID:
            raise Conflict(
                _("Only a paid, unshipped order can be refunded so."), code="not_refundable"
            )
        payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise Conflict(_("This order has no payment to refund."), code="not_refundable")
        chosen = _build_lines(kind=K.ORDER, refundable=refundable_lines(order=order), requested=[])
        case = _case_create(
            order=order,
            payment=payment,
            kind=K.ORDER,
            reason=reason,
            return_goods=False,
            chosen=chosen,
            shipping=ZERO if _shipping_held(order.pk) else order.shipping_amount,
            status=S.APPROVED,
        )
        _opened(case, actor, reason)
    return case


def refund_get_for_customer(*, merchant: Merchant, customer: User, case_id: int) -> RefundCase:
    case = RefundCase.objects.filter(merchant=merchant, customer=customer, pk=case_id).first()
    if case is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    return case


def refund_get_for_merchant(*, merchant: Merchant, case_id: int) -> RefundCase:
    case = RefundCase.objects.filter(merchant=merchant, pk=case_id).first()
    if case is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    return case


def _locked_case(case: RefundCase) -> RefundCase:
    """Lock the case's order, then the case (the lock protocol); the case as it is now."""
    _lock_order(case.order_id)
    return RefundCase.objects.select_for_update().get(pk=case.pk)


def refund_cancel(*, merchant: Merchant, customer: User, case_id: int) -> RefundCase:
    """The consumer withdraws a request the merchant has not decided yet."""
    case = refund_get_for_customer(merchant=merchant, customer=customer, case_id=case_id)
    with transaction.atomic():
        case = _locked_case(case)
        if case.status != S.REQUESTED:
            raise Conflict(
                _("Only a refund still awaiting review can be withdrawn."),
                code="invalid_transition",
            )
        refund_transition(
            case=case, new=S.CANCELLED, actor=customer, reason="withdrawn by customer"
        )
    return case


# --- The merchant's decision ------------------------------------------------------------------


def refund_reject(
    *, merchant: Merchant, case_id: int, actor: User | None, reason: str
) -> RefundCase:
    reason = _reason(reason)
    case = refund_get_for_merchant(merchant=merchant, case_id=case_id)
    with transaction.atomic():
        case = _locked_case(case)
        if case.status != S.REQUESTED:
            raise Conflict(_("This refund was already decided."), code="invalid_transition")
        refund_transition(
            case=case,
            new=S.REJECTED,
            actor=actor,
            reason=reason,
            merchant_reason=reason,
            decided_at=timezone.now(),
        )
    return case


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
    reason = _reason(reason, required=False)
    borne = {} if supply_borne_by is None else {"supply_borne_by": supply_borne_by}
    if supply_borne_by is not None and supply_borne_by not in RefundCase.SupplyBorneBy.values:
        raise DomainError(
            _("Say whether the supplier or the store bears the refund."), code="invalid_borne_by"
        )
    case = refund_get_for_merchant(merchant=merchant, case_id=case_id)
    with transaction.atomic():
        case = _locked_case(case)
        if case.status != S.REQUESTED:
            raise Conflict(_("This refund was already decided."), code="invalid_transition")
        refund_transition(
            case=case,
            new=S.APPROVED,
            actor=actor,
            reason=reason,
            merchant_reason=reason,
            decided_at=timezone.now(),
            **borne,
        )
    refund_execute(case_id=case.pk)
    case.refresh_from_db()
    return case


def _case_and_provider(
    case_id: int, *, status: str
) -> tuple[RefundCase | None, PaymentProvider | None]:
    """The case while it is in ``status``, and its provider while that is enabled."""
    case = RefundCase.objects.select_related("payment").get(pk=case_id)
    if case.status != status:
        return None, None
    try:
        return case, provider_get(case.provider)
    except ProviderUnavailable:
        return case, None


def refund_execute(*, case_id: int) -> str:
    """Ask the provider to refund an approved case (again, after a failure to reach it: the same
    idempotency key is the same refund). Returns "refunding", "failed" (refused), "pending" (the
    provider could not be reached; the case stays approved and beat's sweeper asks again) or
    "skipped" (not approved any more)."""
    case, provider = _case_and_provider(case_id, status=S.APPROVED)
    if case is None or provider is None:
        return "skipped"
    try:
        answer = provider.refund(case.payment, case.amount, case.idempotency_key)
    except RefundRefused as error:
        with transaction.atomic():
            case = _locked_case(case)
            if case.status == S.APPROVED:
                refund_transition(
                    case=case, new=S.FAILED, reason=str(error), failure_reason=str(error)[:255]
                )
        return "failed"
    except Exception:  # noqa: BLE001 - the outcome is unknown: beat asks again with the same key
        logger.exception("refund %s: the provider could not be reached", case.idempotency_key)
        return "pending"
    with transaction.atomic():
        case = _locked_case(case)
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


# --- The provider's notification --------------------------------------------------------------


def refund_handle_notification(*, provider: str, body: bytes, headers) -> str:  # type: ignore[no-untyped-def]
    """Apply a provider's refund notification. Verified, idempotent, safe under concurrency.

    Returns "refunded", "failed", or "duplicate" (the case had already ended).
    """
    try:
        notice = provider_get(provider).parse_refund_notification(body=body, headers=headers)
    except ProviderUnavailable as error:
        raise NotFound(_("Unknown payment provider."), code="unknown_provider") from error
    except InvalidNotification as error:
        raise DomainError(str(error), code="invalid_notification") from error
    return _refund_apply(provider=provider, notice=notice)


def _refund_apply(*, provider: str, notice: RefundNotification) -> str:
    """A provider's verified word on a refund (its notification, or its answer to a query)."""
    cases = RefundCase.objects.filter(idempotency_key=notice.out_refund_no, provider=provider)
    if notice.merchant_id is not None:
        cases = cases.filter(merchant_id=notice.merchant_id)
    found = cases.only("pk", "order_id").first()
    if found is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    with transaction.atomic():
        case = _locked_case(found)
        if notice.amount != case.amount:
            raise DomainError(
                _("Refunded amount %(paid)s does not match the refund %(due)s.")
                % {"paid": notice.amount, "due": case.amount},
                code="amount_mismatch",
            )
        if case.status not in (S.APPROVED, S.REFUNDING):
            return "duplicate"
        if not notice.succeeded:
            refund_transition(
                case=case,
                new=S.FAILED,
                reason=notice.failure_reason,
                failure_reason=notice.failure_reason[:255],
                provider_refund_no=notice.provider_refund_no,
            )
            return "failed"
        _refund_succeeded(case=case, provider_refund_no=notice.provider_refund_no)
        return "refunded"


def refunds_stuck_refunding(*, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Cases the provider accepted whose outcome never arrived (a notification lost, or a
    provider that does not send one): beat asks the provider about them."""
    cutoff = timezone.now() - older_than
    return list(
        RefundCase.objects.filter(status=S.REFUNDING, decided_at__lte=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )


def refund_query_outcome(*, case_id: int) -> str:
    """Ask the provider what became of a refunding case and apply its answer as a notification
    would: "refunded", "failed", "pending" (no final outcome yet, or the provider could not be
    asked: beat asks again) or "skipped" (not refunding any more)."""
    case, provider = _case_and_provider(case_id, status=S.REFUNDING)
    if case is None or provider is None:
        return "skipped"
    try:
        notice = provider.refund_query(case.payment, case.idempotency_key)
    except ProviderError:
        logger.warning("refund %s: the provider could not be asked", case.idempotency_key)
        return "pending"
    if notice is None:
        return "pending"
    try:
        return _refund_apply(provider=case.provider, notice=notice)
    except DomainError:
        logger.exception("refund %s: the provider's answer was refused", case.idempotency_key)
        return "pending"


def _refunded_before(payment_id: int, case_id: int) -> Decimal:
    total = (
        RefundCase.objects.filter(payment_id=payment_id, status=S.REFUNDED)
        .exclude(pk=case_id)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def _supply_memo(*, case: RefundCase, lines: list[RefundCaseLine]) -> str:
    """The refund journal says who bore a refund of supplied lines (none: no memo)."""
    if not any(line.order_line.supplier_id for line in lines):
        return ""
    if case.supply_borne_by == RefundCase.SupplyBorneBy.SUPPLIER:
        return SUPPLY_BORNE_BY_SUPPLIER
    return SUPPLY_BORNE_BY_MERCHANT


def _refund_succeeded(*, case: RefundCase, provider_refund_no: str) -> None:
    """refunded: fee share, stock (once), commission clawback, ledger, the order's own state.
    Caller holds the transaction and the order and case locks."""
    payment = Payment.objects.get(pk=case.payment_id)
    order = Order.objects.get(pk=case.order_id)
    fee_share = prorata.platform_fee_share(
        fee=payment.platform_fee or ZERO,
        payment_amount=payment.amount,
        refunded_before=_refunded_before(payment.pk, case.pk),
        refund=case.amount,
    )
    # Goods come back to stock when they never left (the order is still unshipped) or when the
    # consumer returns them.
    restock = case.kind != K.UNCLAIMED_PAYMENT and (
        order.status == Order.Status.PAID or case.return_goods
    )
    refund_transition(
        case=case,
        new=S.REFUNDED,
        reason="provider confirmed",
        provider_refund_no=provider_refund_no,
        refunded_at=timezone.now(),
        platform_fee_share=fee_share,
        stock_returned=restock,
    )
    lines = list(
        RefundCaseLine.objects.filter(case=case).select_related("order_line").order_by("id")
    )
    if restock:
        sku_return_stock(
            lines=[(line.order_line.sku_id, line.quantity) for line in lines if line.quantity]
        )
    ledger_post_refund(
        merchant_id=case.merchant_id,
        refund_case_id=case.pk,
        order_id=case.order_id,
        payment_id=case.payment_id,
        amount=case.amount,
        fee_share=fee_share,
        reference=case.idempotency_key,
        memo=_supply_memo(case=case, lines=lines),
    )
    events.publish(
        RefundCompleted(
            merchant_id=case.merchant_id,
            refund_case_id=case.pk,
            order_id=case.order_id,
            order_line_ids=tuple(sorted(line.order_line_id for line in lines)),
        )
    )
    if case.kind != K.UNCLAIMED_PAYMENT:
        member_order_refunded(
            merchant_id=order.merchant_id,
            customer_id=order.customer_id,
            order_id=order.pk,
            refund_key=str(case.pk),
            refunded=case.amount,
            order_paid=order.payable_amount,
        )
    if case.kind == K.UNCLAIMED_PAYMENT:
        compare_and_swap(
            Payment.objects,
            pk=payment.pk,
            field="status",
            old=Payment.Status.REFUND_REQUIRED,
            new=Payment.Status.REFUNDED,
        )
    elif (
        order.status == Order.Status.PAID
        and all(item.amount <= ZERO for item in refundable_lines(order=order))
        and order_transition(
            order=order,
            new=Order.Status.CANCELLED,
            reason="refunded in full before shipping",
            cancelled_at=timezone.now(),
        )
    ):
        # Refunded in full before shipping: the coupon comes back while still valid, and the
        # points spent on the order (the stock came back above).
        pricing_release(
            merchant_id=order.merchant_id,
            order_id=order.pk,
            customer_id=order.customer_id,
            flash_lines=[],
        )


# --- Money that arrived for a closed order ----------------------------------------------------


def payment_refund_unclaimed(
    *, merchant: Merchant, payment_id: int, actor: User | None
) -> RefundCase:
    """Give back, in full through the provider, a payment that arrived after its order closed
    (``refund_required``). Once per payment: a second call returns the case already open."""
    payment = Payment.objects.filter(merchant=merchant, pk=payment_id).first()
    if payment is None:
        raise NotFound(_("No such payment."), code="unknown_payment")
    with transaction.atomic():
        order = _lock_order(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = (
            RefundCase.objects.filter(
                payment=payment, kind=K.UNCLAIMED_PAYMENT, status__in=RefundCase.HOLDING_STATUSES
            )
            .order_by("id")
            .first()
        )
        if existing is not None:
            return existing
        if payment.status != Payment.Status.REFUND_REQUIRED:
            raise Conflict(_("This payment needs no refund."), code="not_refundable")
        case = RefundCase.objects.create(
            merchant=merchant,
            order=order,
            payment=payment,
            customer_id=order.customer_id,
            kind=K.UNCLAIMED_PAYMENT,
            status=S.APPROVED,
            reason="paid after the order was closed",
            goods_amount=payment.amount,
            amount=payment.amount,
            provider=payment.provider,
            idempotency_key=f"RP{payment.out_trade_no}{secrets.token_hex(3).upper()}"[-64:],
            decided_at=timezone.now(),
        )
        _opened(case, actor, "paid after the order was closed")
    refund_execute(case_id=case.pk)
    case.refresh_from_db()
    return case


def payment_refund_superseded(*, payment_id: int) -> str:
    """The automatic refund of a superseded payment whose money arrived: the case's status, or
    "skipped" when the payment needs no refund (any more)."""
    payment = (
        Payment.objects.filter(pk=payment_id, status=Payment.Status.REFUND_REQUIRED)
        .select_related("merchant")
        .first()
    )
    if payment is None:
        return "skipped"
    case = payment_refund_unclaimed(merchant=payment.merchant, payment_id=payment.pk, actor=None)
    return case.status
