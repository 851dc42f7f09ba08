"""Withdrawals (提现): request, review, payout — of a distributor's balance, or of a supplier's
(``supplier_withdrawal_request``: what one store owes it for supplied goods; the same rules and
movements on the supplier_* accounts).

Money moves through the double-entry ledger (``ledger_post``), once per movement key:

- requested ``withdrawal:<id>:requested``: available −W, withdrawing +W. Taken with the wallet row
  locked and checked against the available balance under that lock, so concurrent requests can never
  withdraw one balance twice.
- returned ``withdrawal:<id>:returned`` (rejected, or the payout failed): withdrawing −W, available
  +W. One key for both ways back, so funds can come back at most once.
- paid ``withdrawal:<id>:paid``: withdrawing −W, merchant_payable +fee, tax_withheld +tax,
  withdrawn +net.

Every status change is a compare-and-swap along ``WITHDRAWAL_TRANSITIONS`` with a history row, in
the same transaction as its ledger journal. The payout itself is a call to the provider outside any
transaction, made with the withdrawal's idempotency key: a retried task, a duplicate delivery or the
sweeper asking again gets the first payout's result back, never a second payout.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import HUNDRED, ZERO, NotTwoPlaces, parse_two_places
from apps.core.state import transition
from apps.credentials.selectors import payee_account_for, provider_account_for_merchant
from apps.distributors.models import Distributor
from apps.ledger.models import SupplierWallet, Wallet
from apps.ledger.posting import (
    ledger_post_withdrawal_paid,
    ledger_post_withdrawal_requested,
    ledger_post_withdrawal_returned,
)
from apps.merchants.models import Merchant
from apps.payments.providers import (
    PayoutResult,
    PayoutUnavailable,
    ProviderUnavailable,
    provider_get,
)
from apps.suppliers.models import Supplier
from apps.tenancy.scope import tenant_scope

from .events import WithdrawalStatusChanged
from .models import Withdrawal, WithdrawalSettings, WithdrawalStatusChange
from .quotes import WithdrawalQuote, withdrawal_quote
from .selectors import withdrawal_rules, withdrawal_settings_for

logger = logging.getLogger(__name__)

S = Withdrawal.Status
WITHDRAWAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.PAYING}),
    S.PAYING: frozenset({S.PAID, S.FAILED}),
    S.REJECTED: frozenset(),
    S.PAID: frozenset(),
    S.FAILED: frozenset(),
}
SETTINGS_FIELDS = (
    "minimum_amount",
    "fee_percent",
    "fee_free_amount",
    "tax_percent",
    "tax_threshold",
    "review_required",
    "payout_provider",
)
MAX_AMOUNT = Decimal("9999999999.99")  # what a 12-digit, 2-place column holds
MAX_ACCOUNT_LENGTH = 64
MAX_REASON_LENGTH = 255
# A payout still 'paying' after this long is asked about again by the sweeper.
STUCK_AFTER = timedelta(minutes=10)


# --- settings ---------------------------------------------------------------------------------


class WithdrawalSettingsInvalid(DomainError):
    """Settings refused; ``field`` names the one at fault so that forms can show it there."""

    def __init__(self, message: str, *, code: str, field: str):
        super().__init__(message, code=code)
        self.field = field


def _two_places(value: Any, *, field: str, label: str, percent: bool) -> Decimal:
    try:
        number = parse_two_places(value)
    except NotTwoPlaces as error:
        message = (
            _("%(label)s has at most two decimal places.")
            if error.is_number
            else _("%(label)s must be a number such as 12.50.")
        )
        raise WithdrawalSettingsInvalid(
            message % {"label": label}, code="invalid_number", field=field
        ) from error
    upper = HUNDRED if percent else MAX_AMOUNT
    if not ZERO <= number <= upper:
        raise WithdrawalSettingsInvalid(
            _("%(label)s must be between 0 and %(max)s.") % {"label": label, "max": upper},
            code="out_of_range",
            field=field,
        )
    return number


def withdrawal_settings_check(
    *,
    minimum_amount: Any,
    fee_percent: Any,
    fee_free_amount: Any,
    tax_percent: Any,
    tax_threshold: Any,
    payout_provider: Any,
) -> dict[str, Any]:
    """Amounts 0–9,999,999,999.99 and percentages 0–100 with two places, a minimum of at least a
    cent, fee % + tax % below 100 % (so every withdrawal pays out at least a cent), a known payout
    method. Returns the values as stored; raises ``WithdrawalSettingsInvalid`` at the first fault."""
    cleaned = {
        "minimum_amount": _two_places(
            minimum_amount, field="minimum_amount", label=_("The minimum"), percent=False
        ),
        "fee_percent": _two_places(
            fee_percent, field="fee_percent", label=_("The fee"), percent=True
        ),
        "fee_free_amount": _two_places(
            fee_free_amount, field="fee_free_amount", label=_("The fee-free amount"), percent=False
        ),
        "tax_percent": _two_places(
            tax_percent, field="tax_percent", label=_("The tax"), percent=True
        ),
        "tax_threshold": _two_places(
            tax_threshold, field="tax_threshold", label=_("The tax-free amount"), percent=False
        ),
    }
    if cleaned["minimum_amount"] <= ZERO:
        raise WithdrawalSettingsInvalid(
            _("The minimum must be at least 0.01."),
            code="minimum_not_positive",
            field="minimum_amount",
        )
    if cleaned["fee_percent"] + cleaned["tax_percent"] >= HUNDRED:
        raise WithdrawalSettingsInvalid(
            _("The fee and the tax together must stay below 100%."),
            code="fee_and_tax_too_high",
            field="tax_percent",
        )
    if payout_provider not in WithdrawalSettings.PayoutProvider.values:
        raise WithdrawalSettingsInvalid(
            _("Unknown payout method."), code="unknown_payout_provider", field="payout_provider"
        )
    cleaned["payout_provider"] = payout_provider
    return cleaned


def withdrawal_settings_update(*, merchant: Merchant, **fields: Any) -> WithdrawalSettings:
    """Change the given settings, checked together with the others, the row locked meanwhile."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not withdrawal settings: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        WithdrawalSettings.objects.bulk_create(
            [WithdrawalSettings(merchant=merchant)], ignore_conflicts=True
        )
        settings = WithdrawalSettings.objects.select_for_update().get(merchant=merchant)
        if not isinstance(fields.get("review_required", True), bool):
            raise WithdrawalSettingsInvalid(
                _("“Review required” is yes or no."),
                code="invalid_review_required",
                field="review_required",
            )
        merged = {name: fields.get(name, getattr(settings, name)) for name in SETTINGS_FIELDS}
        cleaned = withdrawal_settings_check(
            **{name: value for name, value in merged.items() if name != "review_required"}
        )
        real = cleaned["payout_provider"] != WithdrawalSettings.PayoutProvider.SANDBOX
        if (
            real
            and "payout_provider" in fields
            and not provider_account_for_merchant(
                merchant_id=merchant.pk, provider=cleaned["payout_provider"]
            )
        ):
            raise WithdrawalSettingsInvalid(
                _("Enter and enable the store's account with this provider first."),
                code="payout_provider_without_account",
                field="payout_provider",
            )
        for name, value in fields.items():
            setattr(settings, name, cleaned.get(name, value))
        if fields:
            settings.save(update_fields=[*fields, "updated_at"])
    settings.refresh_from_db()
    return settings


# --- request and review -----------------------------------------------------------------------


def withdrawal_amount_parse(value: Any) -> Decimal:
    try:
        amount = parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(
            _("The amount has at most two decimal places.")
            if error.is_number
            else _("Enter an amount such as 100.00."),
            code="invalid_amount",
        ) from error
    if amount <= ZERO or amount > MAX_AMOUNT:
        raise DomainError(_("Enter an amount above zero."), code="invalid_amount")
    return amount


def withdrawal_quote_for(*, merchant: Merchant, amount: Any) -> WithdrawalQuote:
    """What a withdrawal of ``amount`` would cost under the merchant's current rules."""
    settings = withdrawal_settings_for(merchant=merchant)
    parsed = withdrawal_amount_parse(amount)
    if parsed < settings.minimum_amount:
        raise DomainError(
            _("The minimum withdrawal is ¥%(minimum)s.") % {"minimum": settings.minimum_amount},
            code="below_minimum",
        )
    return withdrawal_quote(amount=parsed, rules=withdrawal_rules(settings))


def withdrawal_preview(
    *, merchant: Merchant, distributor: Distributor, amount: Any
) -> WithdrawalQuote:
    """The quote shown before confirming, refused like the request would be (minimum, balance).
    Informative only: the request checks the balance again under the wallet lock."""
    quote = withdrawal_quote_for(merchant=merchant, amount=amount)
    wallet = Wallet.objects.filter(merchant=merchant, distributor=distributor).first()
    available = wallet.available if wallet is not None else ZERO
    if quote.amount > available:
        raise _insufficient(available)
    return quote


def _insufficient(available: Decimal) -> DomainError:
    return DomainError(
        _("You can withdraw at most ¥%(available)s.") % {"available": max(available, ZERO)},
        code="insufficient_balance",
    )


def _transition(
    withdrawal: Withdrawal, new: str, *, actor: User | None, reason: str = "", **updates: Any
) -> bool:
    """One step of the state machine as a compare-and-swap plus its history row. False when a
    concurrent change got there first (nothing written)."""
    applied = transition(
        withdrawal,
        new,
        transitions=WITHDRAWAL_TRANSITIONS,
        history=WithdrawalStatusChange,
        history_field="withdrawal",
        actor=actor,
        reason=reason,
        **updates,
    )
    if applied:
        _status_changed(withdrawal)
    return applied


def _status_changed(withdrawal: Withdrawal) -> None:
    """Tell the house (an approved one's payout starts after commit:
    ``handlers.pay_out_when_approved``)."""
    events.publish(
        WithdrawalStatusChanged(
            merchant_id=withdrawal.merchant_id,
            withdrawal_id=withdrawal.pk,
            status=withdrawal.status,
        )
    )


def withdrawal_request(
    *,
    merchant: Merchant,
    distributor: Distributor,
    amount: Any,
    account: str,
    request_token: str = "",
) -> Withdrawal:
    """Ask to withdraw ``amount`` (gross) to ``account``.

    The distributor's wallet row is locked, the amount checked against its available balance under
    that lock and debited in the same transaction: however many requests race, together they never
    take more than the balance. Without review, the withdrawal is approved at once and its payout
    enqueued after commit.

    ``request_token`` (optional, from the client) makes the request repeatable: the same token
    again returns the withdrawal it made (looked up under the same wallet lock, so a double click
    cannot slip between the lookup and the insert).
    """
    if distributor.merchant_id != merchant.pk:
        raise NotFound(_("You are not a distributor of this store."), code="not_a_distributor")
    account = (account or "").strip()
    if not account:
        # The distributor's saved payout account for the store's payout method (提现账户).
        saved = payee_account_for(
            distributor_id=distributor.pk,
            provider=withdrawal_settings_for(merchant=merchant).payout_provider,
        )
        account = saved.account if saved is not None else ""
    if not account:
        raise DomainError(_("Enter the account to pay into."), code="account_required")
    return _withdrawal_open(
        merchant=merchant,
        holder={"distributor": distributor},
        wallets=Wallet.objects.filter(merchant=merchant, distributor=distributor),
        amount=amount,
        account=account,
        request_token=request_token,
        actor=distributor.user,
    )


def supplier_withdrawal_request(
    *,
    merchant: Merchant,
    supplier: Supplier,
    amount: Any,
    account: str,
    actor: User | None,
    request_token: str = "",
) -> Withdrawal:
    """A supplier asks to withdraw ``amount`` of what ``merchant`` owes it (its available balance
    with that store) to ``account``: the same rules, review, payout and ledger movements as a
    distributor's withdrawal, on the supplier's accounts. A store that never sold the supplier's
    goods has nothing to withdraw."""
    account = (account or "").strip()
    if not account:
        raise DomainError(_("Enter the account to pay into."), code="account_required")
    # The withdrawal, its journal and the review are the store's books (row-level security): the
    # supplier, in its own scope, asks; the request is written in the store's scope.
    with tenant_scope(merchant_id=merchant.pk, user=actor):
        return _supplier_withdrawal_open(merchant, supplier, amount, account, request_token, actor)


def _supplier_withdrawal_open(  # type: ignore[no-untyped-def]
    merchant, supplier, amount, account, request_token, actor
) -> Withdrawal:
    return _withdrawal_open(
        merchant=merchant,
        holder={"supplier": supplier},
        wallets=SupplierWallet.objects.filter(merchant=merchant, supplier=supplier),
        amount=amount,
        account=account,
        request_token=request_token,
        actor=actor,
    )


def _withdrawal_open(
    *,
    merchant: Merchant,
    holder: dict[str, Any],
    wallets: Any,
    amount: Any,
    account: str,
    request_token: str,
    actor: User | None,
) -> Withdrawal:
    """The request itself, for either kind of holder: the holder's wallet row locked, the amount
    checked against its available balance under that lock and debited in the same transaction."""
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise DomainError(
            _("The account has at most %(max)d characters.") % {"max": MAX_ACCOUNT_LENGTH},
            code="account_too_long",
        )
    request_token = (request_token or "").strip()
    if len(request_token) > MAX_ACCOUNT_LENGTH:
        raise DomainError(_("The request token is too long."), code="invalid_request_token")
    settings = withdrawal_settings_for(merchant=merchant)
    quote = withdrawal_quote_for(merchant=merchant, amount=amount)
    with transaction.atomic():
        wallet = wallets.select_for_update().first()
        if request_token:
            repeated = Withdrawal.objects.filter(
                merchant=merchant, request_token=request_token, **holder
            ).first()
            if repeated is not None:
                return repeated
        available = wallet.available if wallet is not None else ZERO
        if quote.amount > available:
            raise _insufficient(available)
        withdrawal = Withdrawal.objects.create(
            merchant=merchant,
            amount=quote.amount,
            fee=quote.fee,
            tax=quote.tax,
            net=quote.net,
            payout_provider=settings.payout_provider,
            payout_account=account,
            idempotency_key=f"wd_{uuid.uuid4().hex}",
            request_token=request_token,
            **holder,
        )
        WithdrawalStatusChange.objects.create(
            merchant=merchant, withdrawal=withdrawal, to_status=S.REQUESTED, actor=actor
        )
        _status_changed(withdrawal)
        ledger_post_withdrawal_requested(
            merchant_id=merchant.pk,
            withdrawal_id=withdrawal.pk,
            distributor_id=withdrawal.distributor_id,
            supplier_id=withdrawal.supplier_id,
            amount=quote.amount,
            reference=withdrawal.idempotency_key,
        )
        if not settings.review_required:
            _transition(
                withdrawal,
                S.APPROVED,
                actor=None,
                reason=_("Approved automatically (no review)."),
                reviewed_at=timezone.now(),
            )
    return withdrawal


def withdrawal_get_for_merchant(*, merchant: Merchant, withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.filter(merchant=merchant, pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound(_("No such withdrawal."), code="unknown_withdrawal")
    return withdrawal


def _already_reviewed(withdrawal: Withdrawal) -> Conflict:
    withdrawal.refresh_from_db(fields=["status"])
    return Conflict(
        _("This withdrawal was already handled (%(status)s).")
        % {"status": withdrawal.get_status_display()},
        code="already_reviewed",
    )


def withdrawal_approve(*, merchant: Merchant, withdrawal_id: int, actor: User | None) -> Withdrawal:
    """Approve a requested withdrawal; its payout runs in a task enqueued on commit."""
    withdrawal = withdrawal_get_for_merchant(merchant=merchant, withdrawal_id=withdrawal_id)
    if withdrawal.status != S.REQUESTED:
        raise _already_reviewed(withdrawal)
    with transaction.atomic():
        if not _transition(
            withdrawal, S.APPROVED, actor=actor, reviewer=actor, reviewed_at=timezone.now()
        ):
            raise _already_reviewed(withdrawal)
    return withdrawal


def withdrawal_reject(
    *, merchant: Merchant, withdrawal_id: int, actor: User | None, reason: str
) -> Withdrawal:
    """Reject a requested withdrawal with a reason the distributor sees; the money goes back to
    their available balance in the same transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the rejection."), code="reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("The reason has at most %(max)d characters.") % {"max": MAX_REASON_LENGTH},
            code="reason_too_long",
        )
    withdrawal = withdrawal_get_for_merchant(merchant=merchant, withdrawal_id=withdrawal_id)
    if withdrawal.status != S.REQUESTED:
        raise _already_reviewed(withdrawal)
    with transaction.atomic():
        if not _transition(
            withdrawal,
            S.REJECTED,
            actor=actor,
            reason=reason,
            reviewer=actor,
            reviewed_at=timezone.now(),
            finished_at=timezone.now(),
        ):
            raise _already_reviewed(withdrawal)
        withdrawal.reason = reason
        Withdrawal.objects.filter(pk=withdrawal.pk).update(reason=reason)
        _return_funds(withdrawal)
    return withdrawal


def _return_funds(withdrawal: Withdrawal) -> None:
    ledger_post_withdrawal_returned(
        merchant_id=withdrawal.merchant_id,
        withdrawal_id=withdrawal.pk,
        distributor_id=withdrawal.distributor_id,
        supplier_id=withdrawal.supplier_id,
        amount=withdrawal.amount,
        reference=withdrawal.idempotency_key,
    )


# --- payout -----------------------------------------------------------------------------------


def _provider(withdrawal: Withdrawal):  # type: ignore[no-untyped-def]
    try:
        return provider_get(withdrawal.payout_provider)
    except ProviderUnavailable as error:
        raise PayoutUnavailable(
            f"payout provider {withdrawal.payout_provider} not enabled"
        ) from error


def withdrawal_pay(*, withdrawal_id: int) -> str:
    """Pay out an approved withdrawal (or one still 'paying' from an earlier attempt) and record
    the result. Returns the withdrawal's status afterwards.

    Harmless to run twice or at once: the provider pays once per idempotency key and answers a
    repeated call with the first result; recording the result is a compare-and-swap.
    Raises ``PayoutUnavailable`` when the provider gave no final answer (the withdrawal stays
    'paying'; the task retries, the sweeper asks again later).
    """
    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id).first()
    if withdrawal is None:
        return ""
    if withdrawal.status == S.APPROVED:
        with transaction.atomic():
            _transition(withdrawal, S.PAYING, actor=None, paying_since=timezone.now())
        withdrawal.refresh_from_db()
    if withdrawal.status != S.PAYING:
        return withdrawal.status
    result = _provider(withdrawal).payout(
        merchant_id=withdrawal.merchant_id,
        withdrawal_reference=f"W{withdrawal.pk}",
        amount=withdrawal.net,
        idempotency_key=withdrawal.idempotency_key,
        account=withdrawal.payout_account,
    )
    return withdrawal_record_payout(withdrawal_id=withdrawal_id, result=result)


def withdrawal_record_payout(*, withdrawal_id: int, result: PayoutResult) -> str:
    """Apply the provider's final answer: paid (the money leaves for good) or failed (it returns
    to the available balance). Only the first answer recorded counts."""
    with transaction.atomic():
        withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
        if withdrawal.status != S.PAYING:
            return withdrawal.status
        now = timezone.now()
        if result.succeeded:
            if _transition(
                withdrawal,
                S.PAID,
                actor=None,
                provider_reference=result.reference,
                finished_at=now,
            ):
                ledger_post_withdrawal_paid(
                    merchant_id=withdrawal.merchant_id,
                    withdrawal_id=withdrawal.pk,
                    distributor_id=withdrawal.distributor_id,
                    supplier_id=withdrawal.supplier_id,
                    amount=withdrawal.amount,
                    fee=withdrawal.fee,
                    tax=withdrawal.tax,
                    net=withdrawal.net,
                    reference=withdrawal.idempotency_key,
                )
        else:
            reason = (result.message or _("The payout failed."))[:MAX_REASON_LENGTH]
            if _transition(
                withdrawal,
                S.FAILED,
                actor=None,
                reason=reason,
                provider_reference=result.reference,
                finished_at=now,
            ):
                Withdrawal.objects.filter(pk=withdrawal.pk).update(reason=reason)
                _return_funds(withdrawal)
        withdrawal.refresh_from_db(fields=["status"])
        return withdrawal.status


def withdrawal_resume(*, withdrawal_id: int) -> str:
    """The sweeper's step for one withdrawal left behind: an approved one whose payout was never
    enqueued is paid; one stuck 'paying' is first looked up at the provider by its idempotency key
    and only paid (with the same key) when the provider has no record of it."""
    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id).first()
    if withdrawal is None:
        return ""
    if withdrawal.status == S.PAYING:
        result = _provider(withdrawal).payout_query(
            idempotency_key=withdrawal.idempotency_key, merchant_id=withdrawal.merchant_id
        )
        if result is not None:
            return withdrawal_record_payout(withdrawal_id=withdrawal_id, result=result)
    return withdrawal_pay(withdrawal_id=withdrawal_id)


def withdrawals_left_behind(*, now=None, older_than: timedelta = STUCK_AFTER) -> list[int]:
    """Withdrawals whose payout should have finished: 'paying' since before ``older_than`` ago, or
    approved that long ago and never picked up (a crash between commit and enqueue)."""
    cutoff = (now or timezone.now()) - older_than
    stuck = Withdrawal.objects.filter(status=S.PAYING, paying_since__lte=cutoff)
    never_started = Withdrawal.objects.filter(status=S.APPROVED, reviewed_at__lte=cutoff)
    ids = sorted(
        {
            *stuck.values_list("pk", flat=True)[:500],
            *never_started.values_list("pk", flat=True)[:500],
        }
    )
    return ids
