"""The built-in sandbox provider.

It behaves like WeChat Pay and Alipay do: the consumer confirms on a pay page, then the provider sends
a signed asynchronous notification (HMAC-SHA256 over the raw body) to the merchant's callback, retrying
until it is acknowledged. Nothing trusts the browser's redirect; only the verified notification pays.
"""

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from apps.core import events
from apps.payments.events import SandboxRefundAccepted

from .base import (
    InvalidNotification,
    PaymentNotification,
    PayoutResult,
    ProviderRefund,
    RefundNotification,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    SplitResult,
    StatementLine,
)

if TYPE_CHECKING:
    from apps.payments.models import Payment, SandboxTransaction

SIGNATURE_HEADER = "X-Sandbox-Signature"
# Providers' bills run by the day in China's time.
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Like a test card number: the sandbox refuses every payout to an account starting with this.
SANDBOX_FAILING_ACCOUNT_PREFIX = "fail"


def sandbox_sign(body: bytes) -> str:
    secret = settings.FENXIAO_SANDBOX_PAY_SECRET.encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def sandbox_notification_body(
    *, out_trade_no: str, provider_trade_no: str, amount: Decimal, paid_at: datetime
) -> bytes:
    return json.dumps(
        {
            "out_trade_no": out_trade_no,
            "trade_no": provider_trade_no,
            "amount": str(amount),
            "trade_status": "SUCCESS",
            "paid_at": paid_at.isoformat(),
        },
        separators=(",", ":"),
    ).encode()


def sandbox_refund_no(idempotency_key: str) -> str:
    """The sandbox's refund number for a key: the same key is always the same refund."""
    digest = hmac.new(
        settings.FENXIAO_SANDBOX_PAY_SECRET.encode(), idempotency_key.encode(), hashlib.sha256
    ).hexdigest()
    return "SBXR" + digest[:24].upper()


def sandbox_refund_notification_body(
    *, out_refund_no: str, provider_refund_no: str, amount: Decimal, succeeded: bool = True
) -> bytes:
    return json.dumps(
        {
            "out_refund_no": out_refund_no,
            "refund_no": provider_refund_no,
            "amount": str(amount),
            "refund_status": "SUCCESS" if succeeded else "FAIL",
        },
        separators=(",", ":"),
    ).encode()


def _parse_amount(raw: object) -> Decimal:
    amount = Decimal(str(raw))
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidNotification("amount is not a whole number of cents")
    return amount


class SandboxProvider:
    name = "sandbox"
    statement_kinds = frozenset({"payment", "refund", "split", "payout"})
    statement_is_local = True
    statement_splits_by_trade = False

    def checkout_url(self, payment: "Payment") -> str:
        return reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})

    def notify_url(self) -> str:
        return settings.SITE_URL + reverse("payments:notify", kwargs={"provider": self.name})

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotification:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(signature, sandbox_sign(body)):
            raise InvalidNotification("signature does not match")
        try:
            data = json.loads(body)
            amount = _parse_amount(data["amount"])
            return PaymentNotification(
                out_trade_no=str(data["out_trade_no"]),
                provider_trade_no=str(data["trade_no"]),
                amount=amount,
                succeeded=data["trade_status"] == "SUCCESS",
                paid_at=datetime.fromisoformat(data["paid_at"]),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise InvalidNotification(f"malformed notification: {error}") from error

    def acknowledgement(self) -> tuple[str, str]:
        return "application/json", '{"code":"SUCCESS"}'

    def refund_notify_url(self) -> str:
        return settings.SITE_URL + reverse("payments:refund-notify", kwargs={"provider": self.name})

    def refund(self, payment: "Payment", amount: Decimal, idempotency_key: str) -> ProviderRefund:
        """Accept the refund and deliver its signed notification once the caller commits.

        Like a real provider, the refund number depends only on the key, so a request repeated
        with the same key is the same refund (delivered again, never executed twice)."""
        if amount <= 0 or amount > payment.amount:
            raise RefundRefused("amount out of range")
        refund_no = sandbox_refund_no(idempotency_key)
        sandbox_record(
            merchant_id=payment.merchant_id,
            kind="refund",
            reference=idempotency_key,
            provider_reference=refund_no,
            amount=amount,
            out_trade_no=payment.out_trade_no,
        )
        events.publish(
            SandboxRefundAccepted(
                merchant_id=payment.merchant_id,
                idempotency_key=idempotency_key,
                refund_no=refund_no,
                amount=amount,
            )
        )
        return ProviderRefund(provider_refund_no=refund_no)

    def parse_refund_notification(
        self, *, body: bytes, headers: Mapping[str, str]
    ) -> RefundNotification:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(signature, sandbox_sign(body)):
            raise InvalidNotification("signature does not match")
        try:
            data = json.loads(body)
            return RefundNotification(
                out_refund_no=str(data["out_refund_no"]),
                provider_refund_no=str(data["refund_no"]),
                amount=_parse_amount(data["amount"]),
                succeeded=data["refund_status"] == "SUCCESS",
                failure_reason="" if data["refund_status"] == "SUCCESS" else "refused by provider",
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as error:
            raise InvalidNotification(f"malformed notification: {error}") from error

    def refund_query(self, payment: "Payment", idempotency_key: str) -> RefundNotification | None:
        """A refund the sandbox accepted is done (its books have it)."""
        from apps.payments.models import SandboxTransaction

        row = SandboxTransaction.objects.filter(
            merchant_id=payment.merchant_id, kind="refund", reference=idempotency_key
        ).first()
        if row is None:
            return None
        return RefundNotification(
            out_refund_no=idempotency_key,
            provider_refund_no=row.provider_reference,
            amount=row.amount,
            succeeded=True,
            merchant_id=payment.merchant_id,
        )

    def split(
        self, payment: "Payment", receivers: Sequence[SplitReceiver], idempotency_key: str
    ) -> SplitResult:
        amount = sum((receiver.amount for receiver in receivers), Decimal("0.00"))
        if not receivers or amount <= 0:
            raise SplitFailed("a split needs receivers and a positive amount")
        row = sandbox_record(
            merchant_id=payment.merchant_id,
            kind="split",
            reference=idempotency_key,
            amount=amount,
            out_trade_no=payment.out_trade_no,
            receiver=",".join(receiver.account for receiver in receivers),
        )
        if row.amount != amount or row.out_trade_no != payment.out_trade_no:
            raise SplitFailed("this idempotency key was used for another split")
        return SplitResult(provider_reference=row.provider_reference)

    def payout(
        self,
        *,
        merchant_id: int,
        withdrawal_reference: str,
        amount: Decimal,
        idempotency_key: str,
        account: str,
    ) -> PayoutResult:
        """Records the payout once per key (``INSERT … ON CONFLICT DO NOTHING``, so two concurrent
        calls with one key make one row) and answers with that row, whoever inserted it. Accounts
        starting with ``fail`` are refused, so that tests and the demo can see a failed payout.

        A payout made also goes into the sandbox's books (``sandbox_record``, kind ``payout``,
        under the idempotency key), the statement reconciliation reads; a refused one moved no
        money and is not there."""
        from apps.payments.models import SandboxPayout

        refused = account.lower().startswith(SANDBOX_FAILING_ACCOUNT_PREFIX)
        SandboxPayout.objects.bulk_create(
            [
                SandboxPayout(
                    idempotency_key=idempotency_key,
                    withdrawal_reference=withdrawal_reference,
                    amount=amount,
                    account=account,
                    succeeded=not refused,
                    reference=f"SBP{uuid.uuid4().hex[:24].upper()}",
                    message="account refused by the sandbox" if refused else "",
                )
            ],
            ignore_conflicts=True,
        )
        record = SandboxPayout.objects.get(idempotency_key=idempotency_key)
        if record.succeeded:
            sandbox_record(
                merchant_id=merchant_id,
                kind="payout",
                reference=record.idempotency_key,
                provider_reference=record.reference,
                amount=record.amount,
                receiver=record.account,
            )
        return PayoutResult(
            succeeded=record.succeeded, reference=record.reference, message=record.message
        )

    def payout_query(
        self, *, idempotency_key: str, merchant_id: int | None = None
    ) -> PayoutResult | None:
        from apps.payments.models import SandboxPayout

        record = SandboxPayout.objects.filter(idempotency_key=idempotency_key).first()
        if record is None:
            return None
        return PayoutResult(
            succeeded=record.succeeded, reference=record.reference, message=record.message
        )

    def statement(self, *, merchant_id: int, day: date) -> list[StatementLine]:
        """The sandbox's books for the day, as a real provider's bill lists its own."""
        from apps.payments.models import SandboxTransaction

        start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
        rows = SandboxTransaction.objects.filter(
            merchant_id=merchant_id, created_at__gte=start, created_at__lt=start + timedelta(days=1)
        ).order_by("id")
        return [
            StatementLine(
                kind=row.kind,
                reference=row.reference,
                provider_reference=row.provider_reference,
                out_trade_no=row.out_trade_no,
                receiver=row.receiver,
                amount=row.amount,
                occurred_at=row.created_at,
            )
            for row in rows
        ]

    def statement_reference(self, *, kind: str, reference: str) -> str:
        return reference

    def close(self, payment: "Payment") -> None:
        """Nothing to call: the sandbox's pay page only takes a payment still pending."""

    def record_payment(self, payment: "Payment", provider_trade_no: str) -> str:
        """The sandbox took the consumer's money (its pay page was confirmed). Returns the trade
        number it took it under: the first one, when the page is confirmed twice."""
        return sandbox_record(
            merchant_id=payment.merchant_id,
            kind="payment",
            reference=payment.out_trade_no,
            provider_reference=provider_trade_no,
            amount=payment.amount,
            out_trade_no=payment.out_trade_no,
        ).provider_reference


def sandbox_record(
    *,
    merchant_id: int,
    kind: str,
    reference: str,
    amount: Decimal,
    provider_reference: str = "",
    out_trade_no: str = "",
    receiver: str = "",
) -> "SandboxTransaction":
    """Write one line of the sandbox's own books, once per (kind, reference): a repeated call
    returns the first line unchanged (the provider's idempotency). Refunds and payouts through the
    sandbox call this too, with their idempotency key as ``reference``."""
    from apps.payments.models import SandboxTransaction

    SandboxTransaction.objects.bulk_create(
        [
            SandboxTransaction(
                merchant_id=merchant_id,
                kind=kind,
                reference=reference,
                provider_reference=provider_reference or "SBX" + secrets.token_hex(10).upper(),
                amount=amount,
                out_trade_no=out_trade_no,
                receiver=receiver,
            )
        ],
        ignore_conflicts=True,
    )
    return SandboxTransaction.objects.get(merchant_id=merchant_id, kind=kind, reference=reference)
