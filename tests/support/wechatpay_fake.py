"""A local fake of WeChat Pay API v3, on loopback, for tests.

It does what the documented API does on the paths Fenxiao calls: checks each request's
``Authorization`` signature against the merchant's public key, answers in the documented JSON
signed with its own platform key (``Wechatpay-*`` headers), keeps orders, refunds,
profit-sharing orders and transfers idempotent by the merchant's numbers, serves an H5 pay page,
and sends notifications encrypted under the APIv3 key. Tests steer it: ``fail_next`` makes the
next requests time out or answer 5xx; ``notification`` builds one (twice, late, with a bad
signature, a wrong amount or an unknown order, as a test asks).
"""

import base64
import contextlib
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.payments.providers import wechatpay

CHINA = timezone(timedelta(hours=8))


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Merchant:
    mchid: str
    appid: str
    serial: str
    api_key: str
    key: rsa.RSAPrivateKey


@dataclass
class FakeState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    receivers: set[tuple[str, str]] = field(default_factory=set)
    profit_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    delivered: list[tuple[str, int]] = field(default_factory=list)
    # Bill tampering, as a test asks: the amount (fen) a bill shows for a reference, and trades
    # the bill lists that Fenxiao never made (out_trade_no, fen, "yyyy-MM-ddTHH:mm:ss+08:00").
    bill_amounts: dict[str, int] = field(default_factory=dict)
    bill_unknown_trades: list[tuple[str, int, str]] = field(default_factory=list)


class FakeWeChatPay:
    def __init__(self, *, merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey):
        self.merchant = Merchant(
            mchid="1900000109",
            appid="wxd678efh567hg6787",
            serial="5157F09EFDC096DE15EBE81A47057A72",
            api_key=secrets.token_hex(16),
            key=merchant_key,
        )
        self.platform_key = platform_key
        self.platform_serial = "PUB_KEY_ID_0114232134912410000" + secrets.token_hex(2)
        self.state = FakeState()
        self.timeout_seconds = 1.5
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeWeChatPay":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.state = FakeState()

    def fail_next(self, *kinds: str) -> None:
        """``"timeout"`` (answers after the client gave up) or ``"5xx"``, once each, in order."""
        self.state.failures.extend(kinds)

    # --- signing as WeChat Pay does ------------------------------------------------------------

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": wechatpay.sign(
                self.platform_key, wechatpay.answer_message(stamp, nonce, body)
            ),
            "Wechatpay-Serial": self.platform_serial,
        }

    def notification(
        self,
        kind: str,
        data: dict[str, Any],
        *,
        bad_signature: bool = False,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A notification as WeChat Pay sends it: ``kind`` is transaction or refund."""
        event = {
            "transaction": "TRANSACTION.SUCCESS",
            "refund": "REFUND.SUCCESS"
            if data.get("refund_status") == "SUCCESS"
            else "REFUND.ABNORMAL",
        }[kind]
        body = json.dumps(
            {
                "id": secrets.token_hex(18),
                "create_time": datetime.now(CHINA).isoformat(timespec="seconds"),
                "resource_type": "encrypt-resource",
                "event_type": event,
                "summary": "支付成功" if kind == "transaction" else "退款状态变更",
                "resource": {
                    "original_type": kind,
                    **wechatpay.encrypt_resource(self.merchant.api_key, data, kind),
                },
            },
            ensure_ascii=False,
        )
        headers = self.signed_headers(body, timestamp=timestamp)
        if bad_signature:
            headers["Wechatpay-Signature"] = base64.b64encode(b"\0" * 256).decode()
        return body.encode("utf-8"), headers

    def payment_notification(
        self, out_trade_no: str, *, amount_fen: int | None = None, **options: Any
    ) -> tuple[bytes, dict[str, str]]:
        order = self.state.orders.get(out_trade_no) or {
            "out_trade_no": out_trade_no,
            "amount": {"total": amount_fen or 100, "currency": "CNY"},
            "transaction_id": "4200000" + secrets.token_hex(8),
        }
        data = self._transaction(order, paid=True)
        if amount_fen is not None:
            data["amount"] = {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY"}
        return self.notification("transaction", data, **options)

    def refund_notification(
        self, out_refund_no: str, *, status: str = "SUCCESS", **options: Any
    ) -> tuple[bytes, dict[str, str]]:
        refund = self.state.refunds[out_refund_no]
        data = {
            "mchid": self.merchant.mchid,
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": status,
            "success_time": datetime.now(CHINA).isoformat(timespec="seconds"),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": refund["total"],
                "refund": refund["refund"],
                "payer_total": refund["total"],
                "payer_refund": refund["refund"],
            },
        }
        refund["status"] = status
        refund["success_time"] = data["success_time"]
        return self.notification("refund", data, **options)

    def deliver(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POSTs a notification to Fenxiao's callback, as WeChat Pay's servers do."""
        answer = httpx.post(
            url, content=body, headers={**headers, "Content-Type": "application/json"}, timeout=10
        )
        self.state.delivered.append((url, answer.status_code))
        return answer.status_code

    def pay(self, out_trade_no: str) -> tuple[bytes, dict[str, str]]:
        """The consumer paid: the order succeeds and its notification is built."""
        order = self.state.orders[out_trade_no]
        order.setdefault("transaction_id", "4200000" + secrets.token_hex(8))
        order["trade_state"] = "SUCCESS"
        order["success_time"] = datetime.now(CHINA).isoformat(timespec="seconds")
        return self.payment_notification(out_trade_no)

    def _transaction(self, order: dict[str, Any], *, paid: bool | None = None) -> dict[str, Any]:
        state = "SUCCESS" if paid else order.get("trade_state", "NOTPAY")
        data = {
            "appid": self.merchant.appid,
            "mchid": self.merchant.mchid,
            "out_trade_no": order["out_trade_no"],
            "trade_type": order.get("trade_type", "MWEB"),
            "trade_state": state,
            "trade_state_desc": "支付成功" if state == "SUCCESS" else "未支付",
            "bank_type": "OTHERS",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {
                "total": order["amount"]["total"],
                "payer_total": order["amount"]["total"],
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        if state == "SUCCESS":
            data["transaction_id"] = order["transaction_id"]
            data["success_time"] = order.get(
                "success_time", datetime.now(CHINA).isoformat(timespec="seconds")
            )
        return data

    # --- the HTTP API -----------------------------------------------------------------------------

    def _handler(self):  # noqa: C901 - one dispatcher for the fake's routes
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, data: Any = None, *, signed: bool = True) -> None:
                body = "" if data is None else json.dumps(data, ensure_ascii=False)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if signed:
                    for key, value in fake.signed_headers(body).items():
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                # A client that gave up waiting (a "timeout" the test asked for) is gone.
                with contextlib.suppress(BrokenPipeError):
                    self.wfile.write(body.encode())

            def _error(self, status: int, code: str, message: str) -> None:
                self._send(status, {"code": code, "message": message})

            def _read(self) -> str:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length).decode("utf-8") if length else ""

            def _authorised(self, body: str) -> bool:
                fields = wechatpay.parse_authorization(self.headers.get("Authorization", ""))
                if (
                    fields.get("mchid") != fake.merchant.mchid
                    or fields.get("serial_no") != fake.merchant.serial
                ):
                    return False
                message = wechatpay.request_message(
                    self.command, self.path, fields["timestamp"], fields["nonce_str"], body
                )
                return wechatpay.verify(
                    fake.merchant.key.public_key(), message, fields.get("signature", "")
                )

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def _route(self, method: str) -> None:
                body = self._read()
                parts = urlsplit(self.path)
                path, query = parts.path, parse_qs(parts.query)
                if path.startswith("/pay/h5/"):
                    return self._pay_page(method, path.removeprefix("/pay/h5/"), body)
                fake.state.requests.append((method, path))
                if fake.state.failures:
                    failure = fake.state.failures.pop(0)
                    if failure == "timeout":
                        time.sleep(fake.timeout_seconds)
                        return self._error(504, "SYSTEM_ERROR", "too late")
                    return self._error(500, "SYSTEM_ERROR", "系统错误")
                if not self._authorised(body):
                    return self._error(401, "SIGN_ERROR", "签名错误")
                data = json.loads(body) if body else {}
                with fake.lock:
                    return self._api(method, path, query, data)

            def _api(self, method: str, path: str, query: dict, data: dict) -> None:  # noqa: C901
                state = fake.state
                if (
                    method == "POST"
                    and path.startswith("/v3/pay/transactions/")
                    and path.count("/") == 4
                ):
                    trade_type = path.rsplit("/", 1)[1]
                    if (
                        data.get("mchid") != fake.merchant.mchid
                        or data.get("appid") != fake.merchant.appid
                    ):
                        return self._error(400, "PARAM_ERROR", "appid和mch_id不匹配")
                    out_trade_no = data["out_trade_no"]
                    order = state.orders.get(out_trade_no)
                    if order is None:
                        prepay = "wx" + secrets.token_hex(14)
                        order = state.orders[out_trade_no] = {
                            "out_trade_no": out_trade_no,
                            "amount": data["amount"],
                            "notify_url": data["notify_url"],
                            "prepay_id": prepay,
                            "trade_type": {"h5": "MWEB", "native": "NATIVE", "jsapi": "JSAPI"}[
                                trade_type
                            ],
                            "trade_state": "NOTPAY",
                            "scene_info": data.get("scene_info"),
                        }
                    elif order["amount"] != data["amount"]:
                        return self._error(400, "INVALID_REQUEST", "201 商户订单号重复")
                    if trade_type == "h5":
                        return self._send(
                            200, {"h5_url": f"{fake.url}/pay/h5/{order['prepay_id']}"}
                        )
                    if trade_type == "native":
                        return self._send(
                            200, {"code_url": f"weixin://wxpay/bizpayurl?pr={order['prepay_id']}"}
                        )
                    return self._send(200, {"prepay_id": order["prepay_id"]})
                if method == "GET" and path.startswith("/v3/pay/transactions/out-trade-no/"):
                    order = state.orders.get(path.rsplit("/", 1)[1])
                    if order is None:
                        return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
                    return self._send(200, fake._transaction(order))
                if method == "POST" and path.endswith("/close"):
                    order = state.orders.get(path.split("/")[-2])
                    if order is None:
                        return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
                    if order["trade_state"] == "SUCCESS":
                        return self._error(400, "ORDERPAID", "订单已支付")
                    order["trade_state"] = "CLOSED"
                    return self._send(204)
                if method == "POST" and path == "/v3/refund/domestic/refunds":
                    order = state.orders.get(data.get("out_trade_no", ""))
                    if order is None or order["trade_state"] != "SUCCESS":
                        return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
                    amount = data["amount"]
                    if amount["total"] != order["amount"]["total"]:
                        return self._error(400, "PARAM_ERROR", "订单金额不一致")
                    refund = state.refunds.get(data["out_refund_no"])
                    if refund is None:
                        refunded = sum(
                            r["refund"]
                            for r in state.refunds.values()
                            if r["out_trade_no"] == order["out_trade_no"]
                        )
                        if amount["refund"] <= 0 or refunded + amount["refund"] > amount["total"]:
                            return self._error(403, "NOT_ENOUGH", "申请退款金额超过订单可退金额")
                        refund = state.refunds[data["out_refund_no"]] = {
                            "refund_id": "50000" + secrets.token_hex(8),
                            "out_trade_no": order["out_trade_no"],
                            "transaction_id": order["transaction_id"],
                            "refund": amount["refund"],
                            "total": amount["total"],
                            "notify_url": data.get("notify_url", ""),
                            "status": "PROCESSING",
                        }
                    return self._send(
                        200,
                        {
                            "refund_id": refund["refund_id"],
                            "out_refund_no": data["out_refund_no"],
                            "transaction_id": refund["transaction_id"],
                            "out_trade_no": refund["out_trade_no"],
                            "channel": "ORIGINAL",
                            "status": refund["status"],
                            "amount": {
                                "total": refund["total"],
                                "refund": refund["refund"],
                                "payer_total": refund["total"],
                                "payer_refund": refund["refund"],
                                "currency": "CNY",
                            },
                        },
                    )
                if method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
                    out_refund_no = path.rsplit("/", 1)[1]
                    refund = state.refunds.get(out_refund_no)
                    if refund is None:
                        return self._error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
                    return self._send(
                        200,
                        {
                            "refund_id": refund["refund_id"],
                            "out_refund_no": out_refund_no,
                            "transaction_id": refund["transaction_id"],
                            "out_trade_no": refund["out_trade_no"],
                            "status": refund["status"],
                            "amount": {
                                "total": refund["total"],
                                "refund": refund["refund"],
                                "currency": "CNY",
                            },
                        },
                    )
                if method == "POST" and path == "/v3/profitsharing/receivers/add":
                    state.receivers.add((data["type"], data["account"]))
                    return self._send(200, {"type": data["type"], "account": data["account"]})
                if method == "POST" and path == "/v3/profitsharing/orders":
                    transaction = next(
                        (
                            o
                            for o in state.orders.values()
                            if o.get("transaction_id") == data["transaction_id"]
                            and o["trade_state"] == "SUCCESS"
                        ),
                        None,
                    )
                    if transaction is None:
                        return self._error(400, "INVALID_REQUEST", "订单不存在或未支付")
                    existing = state.profit_orders.get(data["out_order_no"])
                    if existing is not None:
                        if existing["receivers"] != data["receivers"]:
                            return self._error(400, "INVALID_REQUEST", "商户分账单号重复")
                        return self._send(200, existing["answer"])
                    for receiver in data["receivers"]:
                        if (receiver["type"], receiver["account"]) not in state.receivers:
                            return self._error(400, "RECEIVER_INVALID", "分账接收方未添加")
                    already = sum(
                        r["amount"]
                        for o in state.profit_orders.values()
                        if o["transaction_id"] == data["transaction_id"]
                        for r in o["receivers"]
                    )
                    total = sum(r["amount"] for r in data["receivers"])
                    if already + total > transaction["amount"]["total"] * 30 // 100:
                        return self._error(400, "RECEIVER_HIGH_RISK", "分账金额超过最高比例")
                    answer = {
                        "transaction_id": data["transaction_id"],
                        "out_order_no": data["out_order_no"],
                        "order_id": "3008450740201411110007820472" + secrets.token_hex(2),
                        "state": "FINISHED",
                        "receivers": [
                            {**r, "result": "SUCCESS", "detail_id": secrets.token_hex(8)}
                            for r in data["receivers"]
                        ],
                    }
                    state.profit_orders[data["out_order_no"]] = {
                        "time": datetime.now(CHINA).isoformat(timespec="seconds"),
                        "transaction_id": data["transaction_id"],
                        "receivers": data["receivers"],
                        "answer": answer,
                    }
                    return self._send(200, answer)
                if method == "GET" and path.startswith("/v3/profitsharing/orders/"):
                    existing = state.profit_orders.get(path.rsplit("/", 1)[1])
                    if existing is None:
                        return self._error(404, "RESOURCE_NOT_EXISTS", "记录不存在")
                    return self._send(200, existing["answer"])
                if method == "POST" and path == "/v3/profitsharing/orders/unfreeze":
                    return self._send(
                        200,
                        {
                            "transaction_id": data["transaction_id"],
                            "out_order_no": data["out_order_no"],
                            "order_id": "30084507" + secrets.token_hex(8),
                            "state": "FINISHED",
                            "receivers": [],
                        },
                    )
                if method == "POST" and path == "/v3/fund-app/mch-transfer/transfer-bills":
                    bill = state.transfers.get(data["out_bill_no"])
                    if bill is None:
                        if data["openid"].startswith("fail"):
                            return self._error(400, "OPENID_INVALID", "openid与appid不匹配")
                        bill = state.transfers[data["out_bill_no"]] = {
                            "out_bill_no": data["out_bill_no"],
                            "transfer_bill_no": "1330000" + secrets.token_hex(10),
                            "create_time": datetime.now(CHINA).isoformat(timespec="seconds"),
                            "state": "SUCCESS",
                            "openid": data["openid"],
                            "transfer_amount": data["transfer_amount"],
                        }
                    elif bill["transfer_amount"] != data["transfer_amount"]:
                        return self._error(400, "INVALID_REQUEST", "商户单号重复")
                    return self._send(
                        200,
                        {
                            k: bill[k]
                            for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")
                        },
                    )
                if method == "GET" and path.startswith(
                    "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/"
                ):
                    bill = state.transfers.get(path.rsplit("/", 1)[1])
                    if bill is None:
                        return self._error(404, "NOT_FOUND", "记录不存在")
                    return self._send(200, dict(bill, mch_id=fake.merchant.mchid))
                if method == "GET" and path == "/v3/bill/tradebill":
                    day = query["bill_date"][0]
                    content = fake.trade_bill(day).encode("utf-8")
                    return self._send(
                        200,
                        {
                            "hash_type": "SHA1",
                            "hash_value": hashlib.sha1(content).hexdigest(),
                            "download_url": f"{fake.url}/v3/billdownload/file?token={day}",
                        },
                    )
                if method == "GET" and path == "/v3/bill/fundflowbill":
                    day = query["bill_date"][0]
                    content = fake.fund_bill(day).encode("utf-8")
                    return self._send(
                        200,
                        {
                            "hash_type": "SHA1",
                            "hash_value": hashlib.sha1(content).hexdigest(),
                            "download_url": f"{fake.url}/v3/billdownload/file?token=fund-{day}",
                        },
                    )
                if method == "GET" and path == "/v3/billdownload/file":
                    token = query["token"][0]
                    content = (
                        fake.fund_bill(token.removeprefix("fund-"))
                        if token.startswith("fund-")
                        else fake.trade_bill(token)
                    ).encode("utf-8")
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return None
                return self._error(404, "NOT_FOUND", f"no route {method} {path}")

            def _pay_page(self, method: str, prepay_id: str, body: str) -> None:
                order = next(
                    (o for o in fake.state.orders.values() if o["prepay_id"] == prepay_id), None
                )
                if order is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if method == "POST":
                    with fake.lock:
                        notification = fake.pay(order["out_trade_no"])
                    status = fake.deliver(order["notify_url"], *notification)
                    page = f"<p id='result'>支付成功 paid (callback answered {status})</p>"
                else:
                    yuan = Decimal(order["amount"]["total"]) / 100
                    page = (
                        f"<h1>微信支付 WeChat Pay</h1><p id='amount'>¥{yuan:.2f}</p>"
                        f"<p>{html.escape(order['out_trade_no'])}</p>"
                        "<form method='post'><button id='confirm' type='submit'>确认支付 Pay</button></form>"
                    )
                content = (
                    f"<!doctype html><meta charset='utf-8'><title>WeChat Pay</title>{page}".encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler

    def trade_bill(self, day: str) -> str:
        """The day's 交易账单 (ALL) in the documented layout: a header, one backtick-quoted row per
        trade or refund, then the summary block."""
        header = (
            "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
            "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
            "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
            "费率备注"
        )
        rows = []
        paid = [o for o in self.state.orders.values() if o.get("trade_state") == "SUCCESS"]
        paid += [
            {
                "out_trade_no": out_trade_no,
                "amount": {"total": fen},
                "success_time": when,
                # The bill is made again for its download: the same text both times.
                "transaction_id": "4200000" + hashlib.sha1(out_trade_no.encode()).hexdigest()[:16],
                "trade_type": "MWEB",
            }
            for out_trade_no, fen, when in self.state.bill_unknown_trades
        ]
        for order in paid:
            when = order["success_time"]
            if not when.startswith(day):
                continue
            total = self.state.bill_amounts.get(order["out_trade_no"], order["amount"]["total"])
            yuan = f"{Decimal(total) / 100:.2f}"
            fee = f"{(Decimal(total) * Decimal('0.006') / 100).quantize(Decimal('0.01'))}"
            rows.append(
                [
                    when[:19].replace("T", " "),
                    self.merchant.appid,
                    self.merchant.mchid,
                    "0",
                    "",
                    order["transaction_id"],
                    order["out_trade_no"],
                    "oUpF8u",
                    order["trade_type"],
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    yuan,
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    "商品",
                    "",
                    fee,
                    "0.60%",
                    yuan,
                    "0.00",
                    "",
                ]
            )
        for out_refund_no, refund in self.state.refunds.items():
            if refund["status"] != "SUCCESS" or not refund["success_time"].startswith(day):
                continue
            order = self.state.orders[refund["out_trade_no"]]
            fen = self.state.bill_amounts.get(out_refund_no, refund["refund"])
            yuan = f"{Decimal(fen) / 100:.2f}"
            rows.append(
                [
                    refund["success_time"][:19].replace("T", " "),
                    self.merchant.appid,
                    self.merchant.mchid,
                    "0",
                    "",
                    refund["transaction_id"],
                    refund["out_trade_no"],
                    "oUpF8u",
                    order["trade_type"],
                    "REFUND",
                    "OTHERS",
                    "CNY",
                    "0.00",
                    "0.00",
                    refund["refund_id"],
                    out_refund_no,
                    yuan,
                    "0.00",
                    "ORIGINAL",
                    "SUCCESS",
                    "商品",
                    "",
                    "0.00",
                    "0.60%",
                    "0.00",
                    yuan,
                    "",
                ]
            )
        lines = [header] + [",".join("`" + cell for cell in row) for row in rows]
        lines.append(
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
        )
        lines.append(f"`{len(rows)},`0.00,`0.00,`0.00,`0.00,`0.00,`0.00")
        return "\n".join(lines) + "\n"

    def fund_bill(self, day: str) -> str:
        """The day's 资金账单 (basic account) in the documented layout: one backtick-quoted row per
        movement of funds (here: profit-sharing orders and transfers, both 支出), then the
        summary block."""
        header = (
            # Downloaded bills write these parentheses in ASCII (the v2 documentation full-width).
            "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),"
            "账户结余(元),资金变更提交申请人,备注,业务凭证号"
        )
        movements = [
            (
                order["time"],
                order["answer"]["order_id"],
                "分账",
                sum(r["amount"] for r in order["receivers"]),
                out_order_no,
            )
            for out_order_no, order in self.state.profit_orders.items()
        ] + [
            (bill["create_time"], bill["transfer_bill_no"], "商家转账", bill["transfer_amount"], no)
            for no, bill in self.state.transfers.items()
            if bill["state"] == "SUCCESS"
        ]
        rows = []
        for when, business_no, kind, fen, voucher in movements:
            if not when.startswith(day):
                continue
            fen = self.state.bill_amounts.get(voucher, fen)
            rows.append(
                [
                    when[:19].replace("T", " "),
                    business_no,
                    hashlib.sha1(voucher.encode()).hexdigest()[:20],
                    kind,
                    kind,
                    "支出",
                    f"{Decimal(fen) / 100:.2f}",
                    "0.00",
                    "system",
                    "",
                    voucher,
                ]
            )
        lines = [header] + [",".join("`" + cell for cell in row) for row in rows]
        lines.append("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额")
        lines.append(f"`{len(rows)},`0,`0.00,`{len(rows)},`0.00")
        return "\n".join(lines) + "\n"
