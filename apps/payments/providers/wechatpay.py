"""WeChat Pay API v3 (微信支付 APIv3), per merchant, with the merchant's own credentials.

Wire format, as the API documents it:

- Every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  timestamp="…",serial_no="…",signature="…"``; the signature is RSA-SHA256 (PKCS#1 v1.5) with the
  merchant's API-certificate key over ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``.
- Every answer and every notification is signed by WeChat Pay (``Wechatpay-Timestamp``,
  ``-Nonce``, ``-Signature``, ``-Serial``) over ``TIMESTAMP\\nNONCE\\nBODY\\n`` with the platform key;
  the answer is trusted only once that signature verifies.
- A notification's ``resource`` is AEAD_AES_256_GCM-encrypted under the APIv3 key (nonce and
  associated data beside the ciphertext).
- Amounts are integers of fen (分).

Why not the ``wechatpayv3`` SDK: it keeps one merchant per client object and downloads platform
certificates itself, writes them to a folder and refreshes them on a timer of its own, while
Fenxiao holds one set of credentials per merchant, encrypted in the database, and needs every
request to time out and fail in ways the refund, split and payout services can act on. The
signing is a few lines over ``cryptography``; the HTTP is ``httpx`` with timeouts and connection
retries.
"""

import base64
import csv
import hashlib
import io
import json
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.urls import reverse

from apps.core.money import quantize_money

from .base import (
    InvalidNotification,
    PaymentNotification,
    PayoutResult,
    PayoutUnavailable,
    ProviderError,
    ProviderRefund,
    RefundNotification,
    RefundRefused,
    SplitFailed,
    SplitReceiver,
    SplitResult,
    StatementLine,
)
from .sandbox import SHANGHAI

if TYPE_CHECKING:
    from apps.credentials.models import ProviderAccount
    from apps.payments.models import Payment

logger = logging.getLogger(__name__)

API_BASE = "https://api.mch.weixin.qq.com"
AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
# A notification or answer older (or newer) than this is refused: a replay.
MAX_CLOCK_SKEW_SECONDS = 300
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WeChatPayError(ProviderError):
    """WeChat Pay answered with an error (``status`` and its ``code``), or not at all
    (``status`` 0)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# --- signatures ---------------------------------------------------------------------------------


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    signature = private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature),
            message.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, path: str, timestamp: str, nonce: str, body: str) -> str:
    """What the merchant signs: ``path`` is the URL's path with its query string."""
    return f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"


def answer_message(timestamp: str, nonce: str, body: str) -> str:
    """What WeChat Pay signs, for answers and notifications alike."""
    return f"{timestamp}\n{nonce}\n{body}\n"


def authorization(
    *, mchid: str, serial_no: str, private_key: rsa.RSAPrivateKey, method: str, path: str, body: str
) -> str:
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16).upper()
    signature = sign(private_key, request_message(method, path, timestamp, nonce, body))
    return (
        f'{AUTH_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def parse_authorization(header: str) -> dict[str, str]:
    """The fields of an Authorization header (the fakes check requests with it)."""
    scheme, _, rest = header.partition(" ")
    if scheme != AUTH_SCHEME:
        return {}
    fields = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value.strip('"')
    return fields


def decrypt_resource(api_key: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    """A notification's resource, decrypted (AEAD_AES_256_GCM under the APIv3 key)."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise InvalidNotification("unknown resource algorithm")
    try:
        plain = AESGCM(api_key.encode("utf-8")).decrypt(
            str(resource["nonce"]).encode("utf-8"),
            base64.b64decode(resource["ciphertext"]),
            str(resource.get("associated_data", "")).encode("utf-8"),
        )
        return json.loads(plain)
    except Exception as error:  # noqa: BLE001 - any failure here means: do not trust it
        raise InvalidNotification("the resource does not decrypt under the APIv3 key") from error


def encrypt_resource(api_key: str, data: Mapping[str, Any], associated_data: str) -> dict[str, str]:
    """The inverse of decrypt_resource, as WeChat Pay encrypts (used by the fake)."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(api_key.encode("utf-8")).encrypt(
        nonce.encode("utf-8"),
        json.dumps(data, ensure_ascii=False).encode("utf-8"),
        associated_data.encode("utf-8"),
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def to_fen(amount: Decimal) -> int:
    return int(quantize_money(amount) * 100)


def from_fen(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidNotification("an amount is not a whole number of fen")
    return quantize_money(Decimal(value) / 100)


# --- the client ---------------------------------------------------------------------------------


class WeChatPayClient:
    """Signed requests with one merchant's credentials; answers verified before they are read."""

    def __init__(self, account: "ProviderAccount", *, transport: httpx.BaseTransport | None = None):
        from apps.credentials.keys import load_private_key, load_public_key

        self.account = account
        self.base = (account.api_base or API_BASE).rstrip("/")
        self.private_key = load_private_key(account.private_key)
        self.platform_key = load_public_key(account.provider_public_key)
        self.transport = transport or httpx.HTTPTransport(retries=2)

    def request(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None, raw: bool = False
    ) -> Any:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        url = path if path.startswith("http") else self.base + path
        parts = urlsplit(url)
        signed_path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Authorization": authorization(
                mchid=self.account.merchant_number,
                serial_no=self.account.key_serial,
                private_key=self.private_key,
                method=method,
                path=signed_path,
                body=text,
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "fenxiao",
        }
        try:
            with httpx.Client(transport=self.transport, timeout=TIMEOUT) as client:
                answer = client.request(method, url, content=text.encode("utf-8"), headers=headers)
        except httpx.HTTPError as error:
            raise WeChatPayError(0, "UNREACHABLE", str(error) or type(error).__name__) from error
        if answer.status_code >= 400:
            try:
                data = answer.json()
                code, message = str(data.get("code", "")), str(data.get("message", ""))
            except ValueError:
                code, message = "HTTP_ERROR", answer.text[:200]
            raise WeChatPayError(answer.status_code, code or "HTTP_ERROR", message)
        if raw:
            # Bill downloads are checked by their hash, not signed.
            return answer.content
        self.verify_answer(answer.headers, answer.text)
        return answer.json() if answer.content else {}

    def verify_answer(self, headers: Mapping[str, str], body: str) -> None:
        timestamp = headers.get("Wechatpay-Timestamp", "")
        nonce = headers.get("Wechatpay-Nonce", "")
        signature = headers.get("Wechatpay-Signature", "")
        if not (timestamp and nonce and signature):
            raise InvalidNotification("the answer is not signed")
        if headers.get("Wechatpay-Serial", "") != self.account.provider_key_id:
            raise InvalidNotification("signed with a key this account does not know")
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise InvalidNotification("the timestamp is not a number") from None
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise InvalidNotification("the timestamp is too far from now (a replay?)")
        if not verify(self.platform_key, answer_message(timestamp, nonce, body), signature):
            raise InvalidNotification("signature does not match")


def _account_for(merchant_id: int) -> "ProviderAccount":
    from apps.credentials.selectors import provider_account_for_merchant

    account = provider_account_for_merchant(
        merchant_id=merchant_id, provider=WeChatPayProvider.name
    )
    if account is None:
        raise WeChatPayError(0, "NO_ACCOUNT", "the merchant has no enabled WeChat Pay account")
    return account


# --- the provider -------------------------------------------------------------------------------


class WeChatPayProvider:
    """Behind Fenxiao's provider interface (providers/base.py). ``transport`` lets tests route
    the HTTP to a fake; production uses the network."""

    name = "wechatpay"
    statement_kinds = frozenset({"payment", "refund", "split", "payout"})
    statement_is_local = False
    statement_splits_by_trade = False

    def __init__(self, transport: httpx.BaseTransport | None = None):
        self.transport = transport

    def client(self, merchant_id: int) -> WeChatPayClient:
        return WeChatPayClient(_account_for(merchant_id), transport=self.transport)

    def notify_url(self) -> str:
        return settings.SITE_URL + reverse("payments:notify", kwargs={"provider": self.name})

    def refund_notify_url(self) -> str:
        return settings.SITE_URL + reverse("payments:refund-notify", kwargs={"provider": self.name})

    # pay

    def _order_body(self, client: WeChatPayClient, payment: "Payment") -> dict[str, Any]:
        """What every kind of payment order (H5, Native, JSAPI) sends; each adds its own part."""
        return {
            "appid": client.account.app_id,
            "mchid": client.account.merchant_number,
            "description": f"Order {payment.out_trade_no}"[:127],
            "out_trade_no": payment.out_trade_no,
            "notify_url": self.notify_url(),
            "amount": {"total": to_fen(payment.amount), "currency": "CNY"},
        }

    def checkout_url(self, payment: "Payment") -> str:
        """An H5 payment order (mobile browsers; WeChat's page then opens the app). The same
        out_trade_no asked again returns the same order (WeChat Pay answers with its h5_url).
        WeChat Pay wants the consumer's own address (``payer_client_ip``, which payment_start
        took from the request)."""
        client = self.client(payment.merchant_id)
        if not payment.payer_client_ip:
            raise WeChatPayError(0, "NO_CLIENT_IP", "an H5 order needs the payer's IP address")
        answer = client.request(
            "POST",
            "/v3/pay/transactions/h5",
            body={
                **self._order_body(client, payment),
                "scene_info": {
                    "payer_client_ip": payment.payer_client_ip,
                    "h5_info": {"type": "Wap"},
                },
            },
        )
        return str(answer["h5_url"])

    def native_code_url(self, payment: "Payment") -> str:
        """A Native payment order: the ``weixin://`` link a QR code shows on a desktop."""
        client = self.client(payment.merchant_id)
        answer = client.request(
            "POST",
            "/v3/pay/transactions/native",
            body=self._order_body(client, payment),
        )
        return str(answer["code_url"])

    def jsapi_prepay(self, payment: "Payment", *, openid: str) -> dict[str, str]:
        """A JSAPI order (inside WeChat) and the signed parameters ``WeixinJSBridge`` takes."""
        client = self.client(payment.merchant_id)
        answer = client.request(
            "POST",
            "/v3/pay/transactions/jsapi",
            body={
                **self._order_body(client, payment),
                "payer": {"openid": openid},
            },
        )
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={answer['prepay_id']}"
        message = f"{client.account.app_id}\n{timestamp}\n{nonce}\n{package}\n"
        return {
            "appId": client.account.app_id,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": sign(client.private_key, message),
        }

    def query(self, payment: "Payment") -> PaymentNotification | None:
        """The trade as WeChat Pay knows it (None: it has no such order)."""
        client = self.client(payment.merchant_id)
        path = (
            f"/v3/pay/transactions/out-trade-no/{quote(payment.out_trade_no)}"
            f"?mchid={quote(client.account.merchant_number)}"
        )
        try:
            data = client.request("GET", path)
        except WeChatPayError as error:
            if error.code == "ORDER_NOT_EXIST":
                return None
            raise
        return self._transaction(data, client.account)

    def close(self, payment: "Payment") -> None:
        """Closes the order (关闭订单). One already paid stays paid (ORDERPAID: its notification
        follows), one never created needs no closing."""
        client = self.client(payment.merchant_id)
        try:
            client.request(
                "POST",
                f"/v3/pay/transactions/out-trade-no/{quote(payment.out_trade_no)}/close",
                body={"mchid": client.account.merchant_number},
            )
        except WeChatPayError as error:
            if error.code not in ("ORDERPAID", "ORDER_NOT_EXIST"):
                raise

    # notifications

    def _notification(
        self, *, body: bytes, headers: Mapping[str, str], expected_type: str
    ) -> tuple[dict[str, Any], "ProviderAccount"]:
        from apps.credentials.selectors import provider_account_by_key_id

        account = provider_account_by_key_id(
            provider=self.name, key_id=headers.get("Wechatpay-Serial", "")
        )
        if account is None:
            raise InvalidNotification("signed with a key no merchant account knows")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidNotification("the body is not UTF-8") from None
        WeChatPayClient(account, transport=self.transport).verify_answer(headers, text)
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidNotification("malformed notification") from error
        if resource.get("original_type") != expected_type:
            raise InvalidNotification(f"not a {expected_type} notification")
        data = decrypt_resource(account.api_key, resource)
        if str(data.get("mchid", "")) != account.merchant_number:
            raise InvalidNotification("the notification is for another merchant number")
        return data, account

    def _transaction(
        self, data: Mapping[str, Any], account: "ProviderAccount"
    ) -> PaymentNotification:
        try:
            succeeded = data["trade_state"] == "SUCCESS"
            paid_at = (
                datetime.fromisoformat(data["success_time"]) if data.get("success_time") else None
            )
            return PaymentNotification(
                out_trade_no=str(data["out_trade_no"]),
                provider_trade_no=str(data.get("transaction_id", "")),
                amount=from_fen(data["amount"]["total"]),
                succeeded=succeeded,
                paid_at=paid_at or datetime.now().astimezone(),
                merchant_id=account.merchant_id,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidNotification(f"malformed transaction: {error}") from error

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotification:
        data, account = self._notification(body=body, headers=headers, expected_type="transaction")
        return self._transaction(data, account)

    def acknowledgement(self) -> tuple[str, str]:
        return "application/json", '{"code":"SUCCESS","message":"成功"}'

    # refunds

    def refund(self, payment: "Payment", amount: Decimal, idempotency_key: str) -> ProviderRefund:
        client = self.client(payment.merchant_id)
        try:
            answer = client.request(
                "POST",
                "/v3/refund/domestic/refunds",
                body={
                    "out_trade_no": payment.out_trade_no,
                    "out_refund_no": idempotency_key,
                    "notify_url": self.refund_notify_url(),
                    "amount": {
                        "refund": to_fen(amount),
                        "total": to_fen(payment.amount),
                        "currency": "CNY",
                    },
                },
            )
        except WeChatPayError as error:
            # A 4xx is a refusal (bad amount, not enough balance, unknown order); no answer or a
            # 5xx leaves the outcome unknown, and the caller asks again with the same key.
            if 400 <= error.status < 500 and error.code not in (
                "SYSTEM_ERROR",
                "FREQUENCY_LIMITED",
            ):
                raise RefundRefused(error.message or error.code) from error
            raise
        return ProviderRefund(provider_refund_no=str(answer["refund_id"]))

    def parse_refund_notification(
        self, *, body: bytes, headers: Mapping[str, str]
    ) -> RefundNotification:
        data, account = self._notification(body=body, headers=headers, expected_type="refund")
        try:
            return _refund(data, status=data["refund_status"], merchant_id=account.merchant_id)
        except (KeyError, TypeError) as error:
            raise InvalidNotification(f"malformed refund: {error}") from error

    def refund_query(self, payment: "Payment", idempotency_key: str) -> RefundNotification | None:
        """查询单笔退款: SUCCESS refunded, CLOSED or ABNORMAL failed, PROCESSING not yet."""
        client = self.client(payment.merchant_id)
        try:
            data = client.request("GET", f"/v3/refund/domestic/refunds/{quote(idempotency_key)}")
        except WeChatPayError as error:
            if error.code == "RESOURCE_NOT_EXISTS":
                return None
            raise
        except InvalidNotification as error:
            raise WeChatPayError(0, "UNTRUSTED", str(error)) from error
        status = data.get("status")
        if status not in ("SUCCESS", "CLOSED", "ABNORMAL"):
            return None
        try:
            return _refund(data, status=status, merchant_id=payment.merchant_id)
        except (KeyError, TypeError, InvalidNotification) as error:
            raise WeChatPayError(0, "MALFORMED", f"malformed refund: {error}") from error

    # 分账 (profit sharing)

    def split(
        self, payment: "Payment", receivers: Sequence[SplitReceiver], idempotency_key: str
    ) -> SplitResult:
        """Adds each receiver (idempotent at WeChat Pay), then one profit-sharing order under the
        key; the rest stays frozen for the merchant until ``unfreeze``. Asked again with the same
        key, WeChat Pay answers with the first order."""
        if not receivers or any(receiver.amount <= 0 for receiver in receivers):
            raise SplitFailed("a split needs receivers with positive amounts")
        try:
            client = self.client(payment.merchant_id)
            for receiver in receivers:
                client.request(
                    "POST",
                    "/v3/profitsharing/receivers/add",
                    body={
                        "appid": client.account.app_id,
                        **_receiver_account(receiver),
                        "relation_type": "DISTRIBUTOR"
                        if receiver.receiver == "distributor"
                        else "SERVICE_PROVIDER",
                    },
                )
            answer = client.request(
                "POST",
                "/v3/profitsharing/orders",
                body={
                    "appid": client.account.app_id,
                    "transaction_id": payment.provider_trade_no,
                    "out_order_no": idempotency_key,
                    "receivers": [
                        {
                            **_receiver_account(receiver),
                            "amount": to_fen(receiver.amount),
                            "description": f"{receiver.receiver} share",
                        }
                        for receiver in receivers
                    ],
                    "unfreeze_unsplit": False,
                },
            )
        except (WeChatPayError, InvalidNotification) as error:
            raise SplitFailed(str(error)) from error
        if answer.get("state") == "CLOSED":
            raise SplitFailed("WeChat Pay closed the profit-sharing order")
        return SplitResult(provider_reference=str(answer["order_id"]))

    def split_query(self, payment: "Payment", idempotency_key: str) -> dict[str, Any]:
        client = self.client(payment.merchant_id)
        return client.request(
            "GET",
            f"/v3/profitsharing/orders/{quote(idempotency_key)}"
            f"?transaction_id={quote(payment.provider_trade_no)}",
        )

    def unfreeze(self, payment: "Payment", idempotency_key: str) -> str:
        """Releases what no split took to the merchant (解冻剩余资金)."""
        client = self.client(payment.merchant_id)
        answer = client.request(
            "POST",
            "/v3/profitsharing/orders/unfreeze",
            body={
                "transaction_id": payment.provider_trade_no,
                "out_order_no": idempotency_key,
                "description": "unfreeze the remainder to the merchant",
            },
        )
        return str(answer["order_id"])

    # payouts (商家转账)

    def payout(
        self,
        *,
        merchant_id: int,
        withdrawal_reference: str,
        amount: Decimal,
        idempotency_key: str,
        account: str,
    ) -> PayoutResult:
        """A transfer to the distributor's WeChat (``account`` is its openid) under the key as
        ``out_bill_no``: WeChat Pay makes one transfer per bill number however often asked."""
        client_error: Exception | None = None
        try:
            client = self.client(merchant_id)
            answer = client.request(
                "POST",
                "/v3/fund-app/mch-transfer/transfer-bills",
                body={
                    "appid": client.account.app_id,
                    "out_bill_no": _bill_no(idempotency_key),
                    "transfer_scene_id": "1000",
                    "openid": account,
                    "transfer_amount": to_fen(amount),
                    "transfer_remark": f"Withdrawal {withdrawal_reference}"[:32],
                },
            )
        except WeChatPayError as error:
            if 400 <= error.status < 500 and error.code not in (
                "SYSTEM_ERROR",
                "FREQUENCY_LIMITED",
            ):
                return PayoutResult(succeeded=False, reference="", message=error.message[:200])
            client_error = error
        except InvalidNotification as error:
            client_error = error
        if client_error is not None:
            raise PayoutUnavailable(str(client_error)) from client_error
        return self._payout_result(answer)

    def _payout_result(self, answer: Mapping[str, Any]) -> PayoutResult:
        state = answer.get("state")
        reference = str(answer.get("transfer_bill_no", ""))
        if state == "SUCCESS":
            return PayoutResult(succeeded=True, reference=reference)
        if state in ("FAIL", "CANCELLED"):
            return PayoutResult(
                succeeded=False, reference=reference, message=str(answer.get("fail_reason", state))
            )
        raise PayoutUnavailable(f"the transfer is {state}; ask again later")

    def payout_query(
        self, *, idempotency_key: str, merchant_id: int | None = None
    ) -> PayoutResult | None:
        if merchant_id is None:
            raise PayoutUnavailable("WeChat Pay is asked per merchant")
        client = self.client(merchant_id)
        try:
            answer = client.request(
                "GET",
                "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/"
                + quote(_bill_no(idempotency_key)),
            )
        except WeChatPayError as error:
            if error.code == "NOT_FOUND":
                return None
            raise PayoutUnavailable(str(error)) from error
        return self._payout_result(answer)

    # bills (对账单)

    def statement(self, *, merchant_id: int, day: date) -> list[StatementLine]:
        """The day's trade bill (交易账单, ALL: payments and refunds) and fund bill (资金账单 of
        the basic account: splits and transfers), as WeChat Pay booked them."""
        client = self.client(merchant_id)
        query = urlencode({"bill_date": day.isoformat(), "bill_type": "ALL"})
        trades = self._bill(client, f"/v3/bill/tradebill?{query}")
        query = urlencode({"bill_date": day.isoformat(), "account_type": "BASIC"})
        funds = self._bill(client, f"/v3/bill/fundflowbill?{query}")
        return parse_trade_bill(trades) + parse_fund_bill(funds)

    def _bill(self, client: WeChatPayClient, path: str) -> str:
        """One bill's text: its address asked for, then downloaded and checked by its hash. A day
        without any movement has no bill (NO_STATEMENT_EXIST): an empty one."""
        try:
            pointer = client.request("GET", path)
        except WeChatPayError as error:
            if error.code == "NO_STATEMENT_EXIST":
                return ""
            raise
        content = client.request("GET", pointer["download_url"], raw=True)
        if pointer.get("hash_type") == "SHA1" and hashlib.sha1(content).hexdigest() != pointer.get(
            "hash_value"
        ):
            raise WeChatPayError(0, "BILL_HASH", "the downloaded bill does not match its hash")
        return content.decode("utf-8-sig")

    def statement_reference(self, *, kind: str, reference: str) -> str:
        return _bill_no(reference) if kind == "payout" else reference


def _refund(data: Mapping[str, Any], *, status: str, merchant_id: int) -> RefundNotification:
    """A refund as WeChat Pay describes it (notification or query): SUCCESS refunded, any other
    final status failed."""
    return RefundNotification(
        out_refund_no=str(data["out_refund_no"]),
        provider_refund_no=str(data["refund_id"]),
        amount=from_fen(data["amount"]["refund"]),
        succeeded=status == "SUCCESS",
        failure_reason="" if status == "SUCCESS" else f"WeChat Pay: {status}",
        merchant_id=merchant_id,
    )


def _bill_no(idempotency_key: str) -> str:
    """out_bill_no allows letters and digits only, up to 32."""
    return "".join(ch for ch in idempotency_key if ch.isalnum())[:32]


def _receiver_account(receiver: SplitReceiver) -> dict[str, str]:
    kind = "PERSONAL_OPENID" if receiver.receiver == "distributor" else "MERCHANT_ID"
    return {"type": kind, "account": receiver.account}


# Trade-bill columns (交易账单 ALL) this reads; each value starts with a backtick.
BILL_COLUMNS = {
    "time": "交易时间",
    "transaction_id": "微信订单号",
    "out_trade_no": "商户订单号",
    "state": "交易状态",
    "amount": "应结订单金额",
    "refund_id": "微信退款单号",
    "out_refund_no": "商户退款单号",
    "refund_amount": "退款金额",
    "fee": "手续费",
}


def _header_name(cell: str) -> str:
    """A header cell as compared: stripped, full-width parentheses as ASCII ones. The fund bill's
    documentation writes 收支金额（元）, downloaded bills read 收支金额(元)."""
    return cell.strip().replace("（", "(").replace("）", ")")


def _bill_rows(text: str, columns: Mapping[str, str]) -> list[dict[str, str]]:
    """The rows of a bill (a header, backtick-prefixed values, then the summary block), each as
    ``columns``' keys to values."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [_header_name(cell) for cell in rows[0]]
    try:
        at = {key: header.index(_header_name(name)) for key, name in columns.items()}
    except ValueError as error:
        raise WeChatPayError(0, "BILL_FORMAT", f"unexpected bill header: {error}") from error
    found = []
    for row in rows[1:]:
        if not row or not row[0].startswith("`"):
            break  # the summary block follows the movements
        found.append({key: row[index].lstrip("`").strip() for key, index in at.items()})
    return found


# Fund-bill columns (资金账单) this reads, and the business types that are Fenxiao's splits and
# payouts (payments and refunds come from the trade bill).
FUND_BILL_COLUMNS = {
    "time": "记账时间",
    "business_no": "微信支付业务单号",
    "business_type": "业务类型",
    "direction": "收支类型",
    "amount": "收支金额（元）",
    "voucher": "业务凭证号",
}
FUND_BILL_KINDS = {"分账": "split", "商家转账": "payout", "企业付款": "payout"}


def parse_fund_bill(text: str) -> list[StatementLine]:
    lines = []
    for cell in _bill_rows(text, FUND_BILL_COLUMNS):
        kind = FUND_BILL_KINDS.get(cell["business_type"])
        if kind is None or cell["direction"] != "支出":
            continue
        lines.append(
            StatementLine(
                kind=kind,
                reference=cell["voucher"],
                provider_reference=cell["business_no"],
                amount=quantize_money(cell["amount"]),
                occurred_at=datetime.fromisoformat(cell["time"]).replace(tzinfo=SHANGHAI),
            )
        )
    return lines


def parse_trade_bill(text: str) -> list[StatementLine]:
    lines = []
    for cell in _bill_rows(text, BILL_COLUMNS):
        occurred = datetime.fromisoformat(cell["time"]).replace(tzinfo=SHANGHAI)
        if cell["state"] == "REFUND":
            lines.append(
                StatementLine(
                    kind="refund",
                    reference=cell["out_refund_no"],
                    provider_reference=cell["refund_id"],
                    out_trade_no=cell["out_trade_no"],
                    amount=quantize_money(cell["refund_amount"]),
                    occurred_at=occurred,
                )
            )
        elif cell["state"] == "SUCCESS":
            lines.append(
                StatementLine(
                    kind="payment",
                    reference=cell["out_trade_no"],
                    provider_reference=cell["transaction_id"],
                    out_trade_no=cell["out_trade_no"],
                    amount=quantize_money(cell["amount"]),
                    occurred_at=occurred,
                    fee=quantize_money(cell["fee"] or "0"),
                )
            )
    return lines
