"""Executing a payment's split (分账): its rows, their ledger movements, the provider.

Commissions decides when an order's commission is final and what each distributor finally
earned (``apps.commissions.payment_splits``); it then calls down here, with the payment locked
(``payment_split_lock``): ``payment_split_plan`` writes the rows once — their existence is the
gate, so a second run plans nothing — and ``payment_split_send_pending`` sends each row through
the provider with the row's idempotency key. A row the provider refused stays ``failed`` and is
sent again by the sweeper with the same key, so the provider never moves the money twice.

A distributor's share is paid out of their available balance (the commission just released): the
ledger moves it from ``available`` to ``withdrawn`` when the split is planned, in the same
transaction, never more than the available balance (a debt from an earlier reversal is settled
first). What the cap or the balance left unsplit stays available and is withdrawn the usual way,
from the merchant's share.
"""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.money import ZERO
from apps.ledger.models import Journal, LedgerEntry, SupplierWallet, Wallet
from apps.ledger.posting import ledger_post_split_payout

from .models import Payment, PaymentSplit
from .providers import ProviderUnavailable, SplitFailed, SplitReceiver, provider_get
from .split_shares import CommissionDue, Share, SupplierDue, split_compute


def split_receiver_account(*, split: PaymentSplit) -> str:
    """The provider's account of a receiver (WeChat: an openid or a merchant number)."""
    if split.receiver == PaymentSplit.Receiver.DISTRIBUTOR:
        return f"distributor:{split.distributor_id}"
    if split.receiver == PaymentSplit.Receiver.SUPPLIER:
        return f"supplier:{split.supplier_id}"
    if split.receiver == PaymentSplit.Receiver.MERCHANT:
        return f"merchant:{split.merchant_id}"
    return "platform"


def payment_refunded_amount(*, payment: Payment) -> Decimal:
    """What was refunded of this payment: the provider legs of its refund journals."""
    total = LedgerEntry.objects.filter(
        journal__payment_id=payment.pk,
        journal__kind=Journal.Kind.REFUND,
        account=LedgerEntry.Account.PROVIDER,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def payment_fee_refunded(*, payment: Payment) -> Decimal:
    """The platform fee its refunds gave back (each refund's pro-rata fee share): the
    ``platform_fee`` legs of its refund journals, as a positive amount."""
    total = LedgerEntry.objects.filter(
        journal__payment_id=payment.pk,
        journal__kind=Journal.Kind.REFUND,
        account=LedgerEntry.Account.PLATFORM_FEE,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


def payment_split_lock(*, order_id: int) -> Payment | None:
    """The order's succeeded payment, its row locked (the caller holds the transaction): the
    lock under which a split is planned once. None when no payment of the order took money."""
    return (
        Payment.objects.select_for_update()
        .filter(order_id=order_id, status=Payment.Status.SUCCEEDED)
        .first()
    )


def payment_split_planned(*, payment: Payment) -> bool:
    return PaymentSplit.objects.filter(payment=payment).exists()


def payment_split_plan(
    *,
    payment: Payment,
    order_id: int,
    per_level: Sequence[CommissionDue],
    suppliers: Sequence[SupplierDue] = (),
) -> list[PaymentSplit]:
    """Write the split rows of ``payment`` (locked by ``payment_split_lock``) for what each
    distributor finally earned per level and each supplier was finally owed, and pay their
    shares out of their available balances in the ledger (never more than a balance holds)."""
    wallets = {
        wallet.distributor_id: wallet
        for wallet in Wallet.objects.select_for_update()
        .filter(distributor_id__in=sorted({due.distributor_id for due in per_level}))
        .order_by("distributor_id")
    }
    # One share per distributor (a split pays each receiver once): a distributor earning at two
    # levels of one order (e.g. agency margin at level 1 and commission at level 2) is summed, at
    # its nearest level. Never more than their available balance: a debt is settled first.
    earned: dict[int, Decimal] = defaultdict(lambda: ZERO)
    nearest: dict[int, int] = {}
    for due in per_level:
        earned[due.distributor_id] += due.amount
        nearest[due.distributor_id] = min(due.level, nearest.get(due.distributor_id, due.level))
    dues = [
        CommissionDue(
            distributor_id=distributor_id,
            level=nearest[distributor_id],
            amount=max(
                ZERO,
                min(
                    amount,
                    wallets[distributor_id].available if distributor_id in wallets else ZERO,
                ),
            ),
        )
        for distributor_id, amount in sorted(earned.items())
    ]
    supplier_wallets = {
        wallet.supplier_id: wallet.available
        for wallet in SupplierWallet.objects.select_for_update()
        .filter(
            merchant_id=payment.merchant_id,
            supplier_id__in=sorted({owed.supplier_id for owed in suppliers}),
        )
        .order_by("supplier_id")
    }
    owed_now = [
        SupplierDue(
            supplier_id=owed.supplier_id,
            amount=max(ZERO, min(owed.amount, supplier_wallets.get(owed.supplier_id, ZERO))),
        )
        for owed in suppliers
    ]
    refunded = payment_refunded_amount(payment=payment)
    # The platform keeps its fee less what the refunds gave back of it (as the ledger says).
    fee = max(ZERO, (payment.platform_fee or ZERO) - payment_fee_refunded(payment=payment))
    shares = split_compute(
        paid=payment.amount,
        refunded=refunded,
        platform_fee=min(fee, payment.amount - refunded),
        commissions=dues,
        max_percent=settings.FENXIAO_SPLIT_MAX_PERCENT,
        suppliers=owed_now,
    )
    splits = PaymentSplit.objects.bulk_create(
        [_split_row(payment=payment, share=share) for share in shares]
    )
    for split in splits:
        if split.receiver in (PaymentSplit.Receiver.DISTRIBUTOR, PaymentSplit.Receiver.SUPPLIER):
            ledger_post_split_payout(
                merchant_id=split.merchant_id,
                split_key=split.idempotency_key,
                order_id=order_id,
                payment_id=payment.pk,
                distributor_id=split.distributor_id,
                supplier_id=split.supplier_id,
                amount=split.amount,
            )
    return splits


def _split_row(*, payment: Payment, share: Share) -> PaymentSplit:
    suffix = (
        f"d{share.distributor_id}"
        if share.distributor_id is not None
        else f"s{share.supplier_id}"
        if share.supplier_id is not None
        else share.receiver
    )
    return PaymentSplit(
        merchant_id=payment.merchant_id,
        payment=payment,
        receiver=share.receiver,
        distributor_id=share.distributor_id,
        supplier_id=share.supplier_id,
        amount=share.amount,
        idempotency_key=f"SPL-{payment.out_trade_no}-{suffix}",
    )


def payment_split_send_pending(*, payment_id: int) -> int:
    """Send every row of the payment's split not done yet; how many this call sent."""
    pending = list(
        PaymentSplit.objects.filter(payment_id=payment_id)
        .exclude(status=PaymentSplit.Status.DONE)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return sum(payment_split_send(split_id=split_id) for split_id in pending)


def payment_split_send(*, split_id: int) -> bool:
    """Send one split row to the provider (its key makes a repeat harmless). True if now done.

    The row stays locked while the provider is called, so two senders never race on one row.
    """
    with transaction.atomic():
        split = (
            PaymentSplit.objects.select_for_update(of=("self",))
            .select_related("payment")
            .filter(pk=split_id)
            .first()
        )
        if split is None or split.status == PaymentSplit.Status.DONE:
            return False
        try:
            provider = provider_get(split.payment.provider)
            result = provider.split(
                split.payment,
                [
                    SplitReceiver(
                        receiver=split.receiver,
                        account=split_receiver_account(split=split),
                        amount=split.amount,
                    )
                ],
                split.idempotency_key,
            )
        except (SplitFailed, ProviderUnavailable) as error:
            split.status = PaymentSplit.Status.FAILED
            split.failure_reason = str(error)[:255] or type(error).__name__
            split.save(update_fields=["status", "failure_reason", "updated_at"])
            return False
        split.status = PaymentSplit.Status.DONE
        split.provider_reference = result.provider_reference
        split.failure_reason = ""
        split.done_at = timezone.now()
        split.save(
            update_fields=[
                "status",
                "provider_reference",
                "failure_reason",
                "done_at",
                "updated_at",
            ]
        )
    return True
