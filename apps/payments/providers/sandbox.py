"""The built-in sandbox provider.

It behaves like WeChat Pay and Alipay do: the consumer confirms on a pay page, then the provider sends
a signed asynchronous notification (HMAC-SHA256 over the raw body) to the merchant's callback, retrying
until it is acknowledged. Nothing trusts the browser's redirect; only the verified notification pays.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from .base import InvalidNotification, PaymentNotification, PayoutResult

if TYPE_CHECKING:
    from apps.payments.models import Payment

SIGNATURE_HEADER = "X-Sandbox-Signature"
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


class SandboxProvider:
    name = "sandbox"

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
            amount = Decimal(data["amount"])
            if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidNotification("amount is not a whole number of cents")
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

    def payout(
        self, *, withdrawal_reference: str, amount: Decimal, idempotency_key: str, account: str
    ) -> PayoutResult:
        """Records the payout once per key (``INSERT … ON CONFLICT DO NOTHING``, so two concurrent
        calls with one key make one row) and answers with that row, whoever inserted it. Accounts
        starting with ``fail`` are refused, so that tests and the demo can see a failed payout."""
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
        result = self.payout_query(idempotency_key=idempotency_key)
        assert result is not None
        return result

    def payout_query(self, *, idempotency_key: str) -> PayoutResult | None:
        from apps.payments.models import SandboxPayout

        record = SandboxPayout.objects.filter(idempotency_key=idempotency_key).first()
        if record is None:
            return None
        return PayoutResult(
            succeeded=record.succeeded, reference=record.reference, message=record.message
        )
