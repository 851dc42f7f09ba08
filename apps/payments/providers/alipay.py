"""Alipay open platform (支付宝开放平台), RSA2, per merchant, with the merchant's own app keys.

Wire format, as the platform documents it:

- A request is a form POST (or, for the pay pages, a GET the consumer's browser makes) to the
  gateway with the common parameters ``app_id``, ``method``, ``format=JSON``, ``charset=utf-8``,
  ``sign_type=RSA2``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss``, China time), ``version=1.0``,
  ``biz_content`` (JSON) and ``sign``: RSA-SHA256 (PKCS#1 v1.5) with the app's private key over
  every other non-empty parameter, sorted by name, as ``k=v`` joined by ``&``, not URL-encoded.
- The answer is ``{"<method with _ for .>_response": {...}, "sign": "..."}``; the signature is over
  the exact text of the response object, checked with Alipay's public key. ``code`` 10000 is
  success, 40004 a business refusal (``sub_code``), 20000 "unknown, ask again".
- Asynchronous notifications are form POSTs signed over every field but ``sign`` and
  ``sign_type``, sorted, empty fields included; Fenxiao answers ``success``. A refund does not
  get a notification of its own: Alipay notifies the trade's ``notify_url`` with ``out_biz_no``
  (the refund's request number) and ``refund_fee``; the provider then asks
  ``alipay.trade.fastpay.refund.query`` for that request's exact amount.

Why not ``alipay-sdk-python`` or ``python-alipay-sdk``: the official SDK is a code generator's
output for the whole platform, pinned to ``pycryptodome`` and without timeouts on its HTTP calls;
``python-alipay-sdk`` holds one app per client and reads keys from files. Both would wrap the
same twenty lines of signing that ``cryptography`` does here, and neither talks to a test fake as
simply as an address in the merchant's account does.
"""

import csv
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.core.money import quantize_money

from .base import (
    InvalidNotification,
    IsRefundNotification,
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
from .wechatpay import sign, verify

if TYPE_CHECKING:
    from apps.credentials.models import ProviderAccount
    from apps.payments.models import Payment

GATEWAY = "https://openapi.alipay.com/gateway.do"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SUCCESS = "10000"
UNKNOWN = "20000"


class AlipayError(ProviderError):
    def __init__(self, code: str, sub_code: str, message: str):
        super().__init__(f"{code} {sub_code}: {message}")
        self.code = code
        self.sub_code = sub_code
        self.message = message


def sign_content(params: Mapping[str, str], *, leave_out: Sequence[str] = ("sign",)) -> str:
    """What a request's signature covers: every non-empty parameter but ``leave_out``, sorted."""
    return "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key not in leave_out and params[key] not in ("", None)
    )


def notification_content(params: Mapping[str, str]) -> str:
    """What an asynchronous notification's signature covers: every parameter but ``sign`` and
    ``sign_type``, sorted, empty ones included (the platform's own check, the SDK's
    ``getSignCheckContentV1``, leaves nothing else out: a notice with an empty field would not
    verify if it were dropped)."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in ("sign", "sign_type")
    )


def response_text(body: str, key: str) -> str:
    """The exact text of the ``key`` object inside the answer (what Alipay signed)."""
    marker = f'"{key}"'
    start = body.find(marker)
    if start < 0:
        raise InvalidNotification(f"the answer has no {key}")
    start = body.index("{", start + len(marker))
    depth, in_string, escaped = 0, False, False
    for position in range(start, len(body)):
        char = body[position]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return body[start : position + 1]
    raise InvalidNotification("the answer is cut short")


def yuan(amount: Decimal) -> str:
    return f"{quantize_money(amount):.2f}"


def parse_yuan(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidNotification("an amount is not a number") from error
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise InvalidNotification("an amount is not a whole number of fen")
    return quantize_money(amount)


class AlipayClient:
    def __init__(self, account: "ProviderAccount"):
        from apps.credentials.keys import load_private_key, load_public_key

        self.account = account
        self.gateway = account.api_base or GATEWAY
        self.private_key = load_private_key(account.private_key)
        self.alipay_key = load_public_key(account.provider_public_key)

    def signed_params(
        self, method: str, biz: Mapping[str, Any], *, notify_url: str = ""
    ) -> dict[str, str]:
        params = {
            "app_id": self.account.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        if notify_url:
            params["notify_url"] = notify_url
        params["sign"] = sign(self.private_key, sign_content(params))
        return params

    def page_url(self, method: str, biz: Mapping[str, Any], *, notify_url: str) -> str:
        """A pay page: the consumer's browser opens the gateway with the signed request."""
        return f"{self.gateway}?{urlencode(self.signed_params(method, biz, notify_url=notify_url))}"

    def call(self, method: str, biz: Mapping[str, Any]) -> dict[str, Any]:
        try:
            with httpx.Client(transport=httpx.HTTPTransport(retries=2), timeout=TIMEOUT) as client:
                answer = client.post(
                    self.gateway,
                    data=self.signed_params(method, biz),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as error:
            raise AlipayError("UNREACHABLE", "", str(error) or type(error).__name__) from error
        if answer.status_code >= 500:
            raise AlipayError(UNKNOWN, f"HTTP_{answer.status_code}", "the gateway failed")
        body = answer.text
        key = method.replace(".", "_") + "_response"
        if f'"{key}"' not in body and '"error_response"' in body:
            key = "error_response"
        signed = response_text(body, key)
        try:
            signature = json.loads(body)["sign"]
        except (ValueError, KeyError, TypeError):
            signature = ""
        if not signature or not verify(self.alipay_key, signed, signature):
            raise InvalidNotification("the answer's signature does not match")
        data = json.loads(signed)
        if data.get("code") != SUCCESS:
            raise AlipayError(
                str(data.get("code", "")),
                str(data.get("sub_code", "")),
                str(data.get("sub_msg") or data.get("msg", "")),
            )
        return data


def _account_for(merchant_id: int) -> "ProviderAccount":
    from apps.credentials.selectors import provider_account_for_merchant

    account = provider_account_for_merchant(merchant_id=merchant_id, provider=AlipayProvider.name)
    if account is None:
        raise AlipayError("NO_ACCOUNT", "", "the merchant has no enabled Alipay account")
    return account


def _refusal(error: AlipayError) -> bool:
    """A business refusal (40004 and the like) is final; 20000 and no answer are unknown."""
    return error.code not in (UNKNOWN, "UNREACHABLE") and not error.sub_code.endswith(
        ("SYSTEM_ERROR", "UNKNOW_ERROR")
    )


class AlipayProvider:
    name = "alipay"
    # The trade bill lists payments and refunds; the account bill (signcustomer) royalty
    # settlements (分账) and transfers (转账).
    statement_kinds = frozenset({"payment", "refund", "split", "payout"})
    statement_is_local = False
    statement_splits_by_trade = True

    def client(self, merchant_id: int) -> AlipayClient:
        return AlipayClient(_account_for(merchant_id))

    def notify_url(self) -> str:
        return settings.SITE_URL + reverse("payments:notify", kwargs={"provider": self.name})

    # pay

    def checkout_url(self, payment: "Payment") -> str:
        """The mobile-site pay page (手机网站支付, alipay.trade.wap.pay)."""
        return self.client(payment.merchant_id).page_url(
            "alipay.trade.wap.pay",
            {
                "out_trade_no": payment.out_trade_no,
                "total_amount": yuan(payment.amount),
                "subject": f"Order {payment.out_trade_no}"[:256],
                "product_code": "QUICK_WAP_WAY",
            },
            notify_url=self.notify_url(),
        )

    def desktop_checkout_url(self, payment: "Payment") -> str:
        """The computer-site pay page (电脑网站支付, alipay.trade.page.pay)."""
        return self.client(payment.merchant_id).page_url(
            "alipay.trade.page.pay",
            {
                "out_trade_no": payment.out_trade_no,
                "total_amount": yuan(payment.amount),
                "subject": f"Order {payment.out_trade_no}"[:256],
                "product_code": "FAST_INSTANT_TRADE_PAY",
            },
            notify_url=self.notify_url(),
        )

    def query(self, payment: "Payment") -> PaymentNotification | None:
        client = self.client(payment.merchant_id)
        try:
            data = client.call("alipay.trade.query", {"out_trade_no": payment.out_trade_no})
        except AlipayError as error:
            if error.sub_code == "ACQ.TRADE_NOT_EXIST":
                return None
            raise
        return PaymentNotification(
            out_trade_no=str(data["out_trade_no"]),
            provider_trade_no=str(data.get("trade_no", "")),
            amount=parse_yuan(data["total_amount"]),
            succeeded=data.get("trade_status") in ("TRADE_SUCCESS", "TRADE_FINISHED"),
            paid_at=_china_time(data.get("send_pay_date")),
            merchant_id=payment.merchant_id,
        )

    def close(self, payment: "Payment") -> None:
        """alipay.trade.close. A wap payment's trade exists at Alipay only once the consumer
        opened its page: no trade is a closed checkout too; a trade already paid stays paid
        (ACQ.TRADE_STATUS_ERROR: its notification follows)."""
        try:
            self.client(payment.merchant_id).call(
                "alipay.trade.close", {"out_trade_no": payment.out_trade_no}
            )
        except AlipayError as error:
            if error.sub_code not in ("ACQ.TRADE_NOT_EXIST", "ACQ.TRADE_STATUS_ERROR"):
                raise

    # notifications

    def _verified_form(self, body: bytes) -> tuple[dict[str, str], "ProviderAccount"]:
        from apps.credentials.keys import load_public_key
        from apps.credentials.selectors import provider_account_by_app_id

        try:
            params = dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        except (UnicodeDecodeError, ValueError) as error:
            raise InvalidNotification("malformed notification") from error
        account = provider_account_by_app_id(provider=self.name, app_id=params.get("app_id", ""))
        if account is None:
            raise InvalidNotification("no merchant account has this app id")
        if params.get("sign_type") != "RSA2":
            raise InvalidNotification("only RSA2 notifications are accepted")
        content = notification_content(params)
        if not verify(
            load_public_key(account.provider_public_key), content, params.get("sign", "")
        ):
            raise InvalidNotification("signature does not match")
        if account.merchant_number and params.get("seller_id", account.merchant_number) != (
            account.merchant_number
        ):
            raise InvalidNotification("the notification is for another seller")
        return params, account

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotification:
        params, account = self._verified_form(body)
        if params.get("out_biz_no"):
            raise IsRefundNotification("a refund's notification")
        try:
            return PaymentNotification(
                out_trade_no=params["out_trade_no"],
                provider_trade_no=params["trade_no"],
                amount=parse_yuan(params["total_amount"]),
                succeeded=params["trade_status"] in ("TRADE_SUCCESS", "TRADE_FINISHED"),
                paid_at=_china_time(params.get("gmt_payment")),
                merchant_id=account.merchant_id,
            )
        except KeyError as error:
            raise InvalidNotification(f"malformed notification: {error}") from error

    def acknowledgement(self) -> tuple[str, str]:
        return "text/plain", "success"

    # refunds

    def refund(self, payment: "Payment", amount: Decimal, idempotency_key: str) -> ProviderRefund:
        """alipay.trade.refund under the key as ``out_request_no`` (one refund per number)."""
        client = self.client(payment.merchant_id)
        try:
            data = client.call(
                "alipay.trade.refund",
                {
                    "out_trade_no": payment.out_trade_no,
                    "refund_amount": yuan(amount),
                    "out_request_no": idempotency_key,
                },
            )
        except AlipayError as error:
            if _refusal(error):
                raise RefundRefused(error.message or error.sub_code) from error
            raise
        return ProviderRefund(provider_refund_no=f"{data.get('trade_no', '')}:{idempotency_key}")

    def parse_refund_notification(
        self, *, body: bytes, headers: Mapping[str, str]
    ) -> RefundNotification:
        params, account = self._verified_form(body)
        out_request_no = params.get("out_biz_no", "")
        if not out_request_no:
            raise InvalidNotification("not a refund's notification")
        try:
            data = self._refund_query(AlipayClient(account), params["out_trade_no"], out_request_no)
        except (AlipayError, KeyError) as error:
            raise InvalidNotification(f"the refund could not be confirmed: {error}") from error
        succeeded = data.get("refund_status") == "REFUND_SUCCESS"
        return RefundNotification(
            out_refund_no=out_request_no,
            provider_refund_no=f"{params.get('trade_no', '')}:{out_request_no}",
            amount=parse_yuan(data.get("refund_amount", "0")),
            succeeded=succeeded,
            failure_reason="" if succeeded else "Alipay has not refunded it",
            merchant_id=account.merchant_id,
        )

    def _refund_query(
        self, client: AlipayClient, out_trade_no: str, out_request_no: str
    ) -> dict[str, Any]:
        return client.call(
            "alipay.trade.fastpay.refund.query",
            {
                "out_trade_no": out_trade_no,
                "out_request_no": out_request_no,
                "query_options": ["gmt_refund_pay"],
            },
        )

    def refund_query(self, payment: "Payment", idempotency_key: str) -> RefundNotification | None:
        """alipay.trade.fastpay.refund.query: REFUND_SUCCESS is refunded; no status yet means
        Alipay has not refunded it (so far), which the documentation says to ask again about."""
        try:
            data = self._refund_query(
                self.client(payment.merchant_id), payment.out_trade_no, idempotency_key
            )
        except InvalidNotification as error:
            raise AlipayError("UNTRUSTED", "", str(error)) from error
        if data.get("refund_status") != "REFUND_SUCCESS":
            return None
        return RefundNotification(
            out_refund_no=idempotency_key,
            provider_refund_no=f"{payment.provider_trade_no}:{idempotency_key}",
            amount=parse_yuan(data.get("refund_amount", "0")),
            succeeded=True,
            merchant_id=payment.merchant_id,
        )

    # royalty (分账)

    def split(
        self, payment: "Payment", receivers: Sequence[SplitReceiver], idempotency_key: str
    ) -> SplitResult:
        """Binds each receiver (alipay.trade.royalty.relation.bind), then settles the shares
        (alipay.trade.order.settle) under the key as ``out_request_no``."""
        if not receivers or any(receiver.amount <= 0 for receiver in receivers):
            raise SplitFailed("a split needs receivers with positive amounts")
        try:
            client = self.client(payment.merchant_id)
            client.call(
                "alipay.trade.royalty.relation.bind",
                {
                    "out_request_no": f"{idempotency_key}-bind",
                    "receiver_list": [
                        {"type": _receiver_type(r), "account": r.account, "memo": r.receiver}
                        for r in receivers
                    ],
                },
            )
            data = client.call(
                "alipay.trade.order.settle",
                {
                    "out_request_no": idempotency_key,
                    "trade_no": payment.provider_trade_no,
                    "royalty_parameters": [
                        {
                            "royalty_type": "transfer",
                            "trans_in_type": _receiver_type(r),
                            "trans_in": r.account,
                            "amount": yuan(r.amount),
                            "desc": f"{r.receiver} share",
                        }
                        for r in receivers
                    ],
                    "extend_params": {"royalty_finish": "false"},
                },
            )
        except (AlipayError, InvalidNotification) as error:
            raise SplitFailed(str(error)) from error
        return SplitResult(provider_reference=str(data["settle_no"]))

    # transfers

    def payout(
        self,
        *,
        merchant_id: int,
        withdrawal_reference: str,
        amount: Decimal,
        idempotency_key: str,
        account: str,
    ) -> PayoutResult:
        """alipay.fund.trans.uni.transfer to the distributor's Alipay login (``account``), one
        transfer per ``out_biz_no`` however often asked."""
        try:
            data = self.client(merchant_id).call(
                "alipay.fund.trans.uni.transfer",
                {
                    "out_biz_no": idempotency_key,
                    "trans_amount": yuan(amount),
                    "product_code": "TRANS_ACCOUNT_NO_PWD",
                    "biz_scene": "DIRECT_TRANSFER",
                    "order_title": f"Withdrawal {withdrawal_reference}",
                    "payee_info": {"identity": account, "identity_type": "ALIPAY_LOGON_ID"},
                },
            )
        except AlipayError as error:
            if _refusal(error):
                return PayoutResult(succeeded=False, reference="", message=error.message[:200])
            raise PayoutUnavailable(str(error)) from error
        except InvalidNotification as error:
            raise PayoutUnavailable(str(error)) from error
        return _transfer_result(data)

    def payout_query(
        self, *, idempotency_key: str, merchant_id: int | None = None
    ) -> PayoutResult | None:
        if merchant_id is None:
            raise PayoutUnavailable("Alipay is asked per merchant")
        try:
            data = self.client(merchant_id).call(
                "alipay.fund.trans.common.query",
                {
                    "out_biz_no": idempotency_key,
                    "product_code": "TRANS_ACCOUNT_NO_PWD",
                    "biz_scene": "DIRECT_TRANSFER",
                },
            )
        except AlipayError as error:
            if error.sub_code == "ORDER_NOT_EXIST":
                return None
            raise PayoutUnavailable(str(error)) from error
        return _transfer_result(data)

    # bills

    def statement(self, *, merchant_id: int, day: date) -> list[StatementLine]:
        """The day's trade bill (``trade``: payments and refunds) and account bill
        (``signcustomer``, 账务明细: royalty settlements and transfers), each a zip of GBK CSV
        files got through alipay.data.dataservice.bill.downloadurl.query."""
        client = self.client(merchant_id)
        return parse_bill_zip(self._bill(client, "trade", day)) + parse_account_bill_zip(
            self._bill(client, "signcustomer", day)
        )

    def _bill(self, client: AlipayClient, bill_type: str, day: date) -> bytes | None:
        """One bill's zip, or None for a day without any (isp.bill_not_exist)."""
        try:
            data = client.call(
                "alipay.data.dataservice.bill.downloadurl.query",
                {"bill_type": bill_type, "bill_date": day.isoformat()},
            )
        except AlipayError as error:
            if error.sub_code == "isp.bill_not_exist":
                return None
            raise
        try:
            with httpx.Client(timeout=TIMEOUT) as http:
                answer = http.get(data["bill_download_url"])
        except httpx.HTTPError as error:
            raise AlipayError("UNREACHABLE", "", str(error)) from error
        if answer.status_code != 200:
            raise AlipayError(UNKNOWN, f"HTTP_{answer.status_code}", "the bill could not be got")
        return answer.content

    def statement_reference(self, *, kind: str, reference: str) -> str:
        return reference


def _receiver_type(receiver: SplitReceiver) -> str:
    return "loginName" if receiver.receiver == "distributor" else "userId"


def _transfer_result(data: Mapping[str, Any]) -> PayoutResult:
    status = data.get("status")
    reference = str(data.get("order_id", ""))
    if status == "SUCCESS":
        return PayoutResult(succeeded=True, reference=reference)
    if status in ("FAIL", "CLOSED"):
        return PayoutResult(
            succeeded=False, reference=reference, message=str(data.get("fail_reason", status))
        )
    raise PayoutUnavailable(f"the transfer is {status}; ask again later")


def _china_time(value: object) -> datetime:
    if not value:
        return timezone.now()
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError as error:
        raise InvalidNotification("a time is not yyyy-MM-dd HH:mm:ss") from error


# The bills' layout, as the platform serves them (alipay.data.dataservice.bill.downloadurl.query):
# ``bill_download_url`` is a zip of CSV files in GBK, a detail file and a summary file named
# ``…(汇总).csv``. The zip's member names are GBK bytes without the zip's UTF-8 flag, so Python
# reads them as cp437 and they are decoded back here. A detail file has ``#`` lines before its
# header (title, account, dates, a ``#----…列表----`` rule) and after its rows (end rule, totals,
# export time); long numbers carry a tab so a spreadsheet keeps them as text. Columns are found
# by their header names: one added or moved does not matter, one missing is a format error.

# The trade bill (业务明细, bill_type=trade): 支付宝交易号, 商户订单号, 业务类型 (交易 / 退款), …,
# 订单金额（元） (a refund's is negative), …, 退款批次号/请求号 (the refund's out_request_no),
# 服务费（元）, 分润（元）, 备注.
DETAIL_COLUMNS = {
    "trade_no": "支付宝交易号",
    "out_trade_no": "商户订单号",
    "kind": "业务类型",
    "finished": "完成时间",
    "amount": "订单金额（元）",
    "request_no": "退款批次号/请求号",
    "fee": "服务费（元）",
}

ZIP_UTF8_FLAG = 0x800


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & ZIP_UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _header_name(cell: str) -> str:
    """A header cell as compared: stripped, full-width parentheses as ASCII ones."""
    return cell.strip().replace("（", "(").replace("）", ")")


def _bill_rows(content: bytes | None, columns: Mapping[str, str]) -> list[dict[str, str]]:
    """The detail rows of a bill zip (its detail CSV files; the summary, 汇总, left out), each as
    ``columns``' keys to values."""
    if content is None:
        return []
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [
            info
            for info in archive.infolist()
            if _member_name(info).endswith(".csv") and "汇总" not in _member_name(info)
        ]
        texts = [archive.read(info).decode("gbk") for info in members]
    except (zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise AlipayError("BILL_FORMAT", "", "the bill is not a zip of GBK CSV") from error
    found = []
    for text in texts:
        rows = [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("#")]
        if not rows:
            continue
        header = [_header_name(cell) for cell in rows[0]]
        try:
            at = {key: header.index(_header_name(label)) for key, label in columns.items()}
        except ValueError as error:
            raise AlipayError("BILL_FORMAT", "", f"unexpected bill header: {error}") from error
        for row in rows[1:]:
            if len(row) < len(header):
                raise AlipayError("BILL_FORMAT", "", "a bill row is cut short")
            found.append({key: row[index].strip() for key, index in at.items()})
    return found


def _bill_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError as error:
        raise AlipayError("BILL_FORMAT", "", "a bill time is not yyyy-MM-dd HH:mm:ss") from error


def _bill_yuan(value: str) -> Decimal:
    try:
        return parse_yuan(value or "0")
    except InvalidNotification as error:
        raise AlipayError("BILL_FORMAT", "", f"a bill amount is not yuan: {value!r}") from error


def parse_bill_zip(content: bytes | None) -> list[StatementLine]:
    """The trade bill (业务明细): payments (交易) and refunds (退款)."""
    lines: list[StatementLine] = []
    for cell in _bill_rows(content, DETAIL_COLUMNS):
        if cell["kind"] == "交易":
            lines.append(
                StatementLine(
                    kind="payment",
                    reference=cell["out_trade_no"],
                    provider_reference=cell["trade_no"],
                    out_trade_no=cell["out_trade_no"],
                    amount=_bill_yuan(cell["amount"]),
                    occurred_at=_bill_time(cell["finished"]),
                    fee=abs(_bill_yuan(cell["fee"])),
                )
            )
        elif cell["kind"] == "退款":
            lines.append(
                StatementLine(
                    kind="refund",
                    reference=cell["request_no"],
                    provider_reference=cell["trade_no"],
                    out_trade_no=cell["out_trade_no"],
                    amount=abs(_bill_yuan(cell["amount"])),
                    occurred_at=_bill_time(cell["finished"]),
                )
            )
    return lines


# The account bill (账务明细, bill_type=signcustomer: every movement of the Alipay balance):
# 账务流水号, 业务流水号, 商户订单号, 商品名称, 发生时间, 对方账号, 收入金额（+元）, 支出金额（-元）,
# 账户余额（元）, 交易渠道, 业务类型, 备注, and on newer bills 业务描述, 业务账单来源, 业务基础订单号,
# 业务订单号. The platform documents 商户订单号 as "the number passed when the Alipay trade was
# created": on a royalty row (业务类型 交易分账) it is the split trade's out_trade_no, not the
# settlement's out_request_no, which no column of the bill carries; on a transfer row (转账) it
# is the transfer's out_biz_no.
ACCOUNT_COLUMNS = {
    "flow_no": "账务流水号",
    "business_no": "业务流水号",
    "merchant_no": "商户订单号",
    "occurred": "发生时间",
    "counterparty": "对方账号",
    "expense": "支出金额（-元）",
    "kind": "业务类型",
}
ACCOUNT_KINDS = {"交易分账": "split", "分账": "split", "转账": "payout"}


def parse_account_bill_zip(content: bytes | None) -> list[StatementLine]:
    """The account bill: each royalty settlement (交易分账) and transfer (转账) paid out of the
    account. A royalty line is one receiver's share, named by the split trade (``reference`` and
    ``out_trade_no`` are its out_trade_no): which of that payment's split rows it is, is for
    reconciliation to find (payments.statements). A transfer is named by its out_biz_no."""
    lines: list[StatementLine] = []
    for cell in _bill_rows(content, ACCOUNT_COLUMNS):
        kind = ACCOUNT_KINDS.get(cell["kind"])
        expense = abs(_bill_yuan(cell["expense"]))
        if kind is None or not expense:
            continue  # payments, refunds, fees (the trade bill's business), or money that came in
        royalty = kind == "split"
        lines.append(
            StatementLine(
                kind=kind,
                reference=cell["merchant_no"],
                provider_reference=cell["business_no"] or cell["flow_no"],
                out_trade_no=cell["merchant_no"] if royalty else "",
                receiver=cell["counterparty"] if royalty else "",
                amount=expense,
                occurred_at=_bill_time(cell["occurred"]),
            )
        )
    return lines
