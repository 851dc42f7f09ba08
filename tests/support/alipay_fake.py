"""A local fake of Alipay's open-platform gateway, on loopback, for tests.

It checks each request's RSA2 signature against the app's public key, answers in the documented
``<method>_response`` + ``sign`` shape signed with its own Alipay key, keeps trades, refunds,
settlements and transfers idempotent by the merchant's numbers, serves the wap pay page (the
gateway opened by the consumer's browser) and builds signed asynchronous notifications. Tests
steer it like the WeChat Pay fake: ``fail_next("timeout" | "5xx")``, notifications twice, late,
badly signed, for a wrong amount or an unknown trade.
"""

import base64
import contextlib
import html
import io
import json
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.payments.providers import alipay, wechatpay

CHINA = timezone(timedelta(hours=8))


def now_text() -> str:
    return datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class State:
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    relations: set[str] = field(default_factory=set)
    settles: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    # Bill tampering, as a test asks: the amount (yuan) the bill shows for a trade or refund
    # request number, and trades it lists that Fenxiao never made (out_trade_no, yuan, time).
    bill_amounts: dict[str, str] = field(default_factory=dict)
    bill_unknown_trades: list[tuple[str, str, str]] = field(default_factory=list)
    # The account bill's: the amount (yuan) it shows for a settlement's out_request_no or a
    # transfer's out_biz_no, and movements it lists that Fenxiao never made
    # (业务类型 交易分账 or 转账, its 商户订单号, yuan, time).
    account_bill_amounts: dict[str, str] = field(default_factory=dict)
    account_bill_unknown: list[tuple[str, str, str, str]] = field(default_factory=list)


class FakeAlipay:
    def __init__(self, *, app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey):
        self.app_id = "2021000000000001"
        self.seller_id = "2088102146225135"
        self.app_key = app_key
        self.alipay_key = alipay_key
        self.state = State()
        self.timeout_seconds = 1.5
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def gateway(self) -> str:
        return f"{self.url}/gateway.do"

    def start(self) -> "FakeAlipay":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.state = State()

    def fail_next(self, *kinds: str) -> None:
        self.state.failures.extend(kinds)

    # --- notifications ------------------------------------------------------------------------

    def notification(self, params: dict[str, str], *, bad_signature: bool = False) -> bytes:
        params = {
            "notify_time": now_text(),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "seller_id": self.seller_id,
            **params,
        }
        # As the platform signs a notification: every field but sign and sign_type, sorted,
        # empty ones included.
        content = "&".join(
            f"{key}={params[key]}" for key in sorted(params) if key not in ("sign", "sign_type")
        )
        params["sign"] = wechatpay.sign(self.alipay_key, content)
        if bad_signature:
            params["sign"] = base64.b64encode(b"\0" * 256).decode()
        return urlencode(params).encode()

    def payment_notification(
        self, out_trade_no: str, *, total_amount: str | None = None, **options: Any
    ) -> bytes:
        trade = self.state.trades.get(out_trade_no) or {
            "out_trade_no": out_trade_no,
            "trade_no": "2024" + secrets.token_hex(8),
            "total_amount": total_amount or "1.00",
            "gmt_payment": now_text(),
        }
        return self.notification(
            {
                "trade_no": trade["trade_no"],
                "out_trade_no": out_trade_no,
                "trade_status": "TRADE_SUCCESS",
                "total_amount": total_amount or trade["total_amount"],
                "receipt_amount": trade["total_amount"],
                "gmt_payment": trade.get("gmt_payment", now_text()),
            },
            **options,
        )

    def refund_notification(self, out_trade_no: str, out_request_no: str, **options: Any) -> bytes:
        trade = self.state.trades[out_trade_no]
        refunded = sum(
            Decimal(r["refund_amount"])
            for (t, _n), r in self.state.refunds.items()
            if t == out_trade_no
        )
        return self.notification(
            {
                "trade_no": trade["trade_no"],
                "out_trade_no": out_trade_no,
                "out_biz_no": out_request_no,
                "trade_status": "TRADE_SUCCESS",
                "total_amount": trade["total_amount"],
                "refund_fee": f"{refunded:.2f}",
                "gmt_refund": now_text() + ".000",
            },
            **options,
        )

    def deliver(self, url: str, body: bytes) -> int:
        answer = httpx.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        return answer.status_code

    def pay(self, out_trade_no: str) -> bytes:
        trade = self.state.trades[out_trade_no]
        trade.setdefault("trade_no", "2024" + secrets.token_hex(8))
        trade["trade_status"] = "TRADE_SUCCESS"
        trade["gmt_payment"] = now_text()
        return self.payment_notification(out_trade_no)

    # --- the gateway ------------------------------------------------------------------------------

    def _signed_answer(self, method: str, data: dict[str, Any]) -> str:
        key = method.replace(".", "_") + "_response"
        inner = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        signature = wechatpay.sign(self.alipay_key, inner)
        return f'{{"{key}":{inner},"sign":"{signature}"}}'

    def _handler(self):  # noqa: C901
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _write(self, status: int, content: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError):
                    self.wfile.write(content)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/bill.zip":
                    return self._write(200, fake.bill_zip(parts.query), "application/zip")
                if parts.path == "/account-bill.zip":
                    return self._write(200, fake.account_bill_zip(parts.query), "application/zip")
                params = dict(parse_qsl(parts.query))
                return self._page(params)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                params = dict(parse_qsl(body, keep_blank_values=True))
                if urlsplit(self.path).path.startswith("/pay/"):
                    return self._confirm(urlsplit(self.path).path.removeprefix("/pay/"))
                fake.state.methods.append(params.get("method", ""))
                if fake.state.failures:
                    failure = fake.state.failures.pop(0)
                    if failure == "timeout":
                        time.sleep(fake.timeout_seconds)
                    return self._write(502, b"Bad Gateway", "text/plain")
                if not self._verified(params):
                    return self._answer(
                        params.get("method", "error"),
                        {
                            "code": "40002",
                            "msg": "Invalid Arguments",
                            "sub_code": "isv.invalid-signature",
                            "sub_msg": "验签出错",
                        },
                    )
                with fake.lock:
                    return self._api(
                        params["method"], json.loads(params.get("biz_content") or "{}")
                    )

            def _verified(self, params: dict[str, str]) -> bool:
                if params.get("app_id") != fake.app_id or params.get("sign_type") != "RSA2":
                    return False
                return wechatpay.verify(
                    fake.app_key.public_key(), alipay.sign_content(params), params.get("sign", "")
                )

            def _answer(self, method: str, data: dict[str, Any]) -> None:
                text = fake._signed_answer(method, data)
                self._write(200, text.encode("utf-8"), "application/json;charset=utf-8")

            def _ok(self, method: str, data: dict[str, Any]) -> None:
                self._answer(method, {"code": "10000", "msg": "Success", **data})

            def _refuse(self, method: str, sub_code: str, sub_msg: str) -> None:
                self._answer(
                    method,
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": sub_code,
                        "sub_msg": sub_msg,
                    },
                )

            def _api(self, method: str, biz: dict[str, Any]) -> None:  # noqa: C901
                state = fake.state
                if method == "alipay.trade.query":
                    trade = state.trades.get(biz["out_trade_no"])
                    if trade is None:
                        return self._refuse(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
                    return self._ok(
                        method,
                        {
                            "trade_no": trade.get("trade_no", ""),
                            "out_trade_no": trade["out_trade_no"],
                            "trade_status": trade.get("trade_status", "WAIT_BUYER_PAY"),
                            "total_amount": trade["total_amount"],
                            "send_pay_date": trade.get("gmt_payment", ""),
                        },
                    )
                if method == "alipay.trade.close":
                    trade = state.trades.get(biz["out_trade_no"])
                    if trade is None:
                        return self._refuse(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
                    if trade.get("trade_status") != "WAIT_BUYER_PAY":
                        return self._refuse(method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                    trade["trade_status"] = "TRADE_CLOSED"
                    return self._ok(method, {"out_trade_no": trade["out_trade_no"], "trade_no": ""})
                if method == "alipay.trade.refund":
                    trade = state.trades.get(biz["out_trade_no"])
                    if trade is None or trade.get("trade_status") != "TRADE_SUCCESS":
                        return self._refuse(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
                    key = (biz["out_trade_no"], biz["out_request_no"])
                    if key not in state.refunds:
                        refunded = sum(
                            Decimal(r["refund_amount"])
                            for (t, _n), r in state.refunds.items()
                            if t == key[0]
                        )
                        amount = Decimal(biz["refund_amount"])
                        if amount <= 0 or refunded + amount > Decimal(trade["total_amount"]):
                            return self._refuse(
                                method, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"
                            )
                        state.refunds[key] = {
                            "refund_amount": biz["refund_amount"],
                            "gmt": now_text(),
                        }
                    refunded = sum(
                        Decimal(r["refund_amount"])
                        for (t, _n), r in state.refunds.items()
                        if t == key[0]
                    )
                    return self._ok(
                        method,
                        {
                            "trade_no": trade["trade_no"],
                            "out_trade_no": trade["out_trade_no"],
                            "buyer_logon_id": "159****5620",
                            "fund_change": "Y",
                            "refund_fee": f"{refunded:.2f}",
                        },
                    )
                if method == "alipay.trade.fastpay.refund.query":
                    refund = state.refunds.get((biz["out_trade_no"], biz["out_request_no"]))
                    if refund is None:
                        return self._ok(
                            method,
                            {
                                "out_trade_no": biz["out_trade_no"],
                                "out_request_no": biz["out_request_no"],
                            },
                        )
                    return self._ok(
                        method,
                        {
                            "out_trade_no": biz["out_trade_no"],
                            "out_request_no": biz["out_request_no"],
                            "refund_amount": refund["refund_amount"],
                            "refund_status": "REFUND_SUCCESS",
                            "gmt_refund_pay": refund["gmt"],
                        },
                    )
                if method == "alipay.trade.royalty.relation.bind":
                    for receiver in biz["receiver_list"]:
                        state.relations.add(receiver["account"])
                    return self._ok(method, {"result_code": "SUCCESS"})
                if method == "alipay.trade.order.settle":
                    existing = state.settles.get(biz["out_request_no"])
                    if existing is not None:
                        return self._ok(method, {k: existing[k] for k in ("trade_no", "settle_no")})
                    trade = next(
                        (t for t in state.trades.values() if t.get("trade_no") == biz["trade_no"]),
                        None,
                    )
                    if trade is None:
                        return self._refuse(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
                    for parameter in biz["royalty_parameters"]:
                        if parameter["trans_in"] not in state.relations:
                            return self._refuse(
                                method, "ACQ.TRANS_IN_NOT_EXIST", "分账收入方未绑定"
                            )
                    total = sum(Decimal(p["amount"]) for p in biz["royalty_parameters"])
                    if total > Decimal(trade["total_amount"]) * Decimal("0.30"):
                        return self._refuse(
                            method, "ACQ.ALLOC_AMOUNT_VALIDATE_ERROR", "分账金额超过最高比例"
                        )
                    answer = {
                        "trade_no": biz["trade_no"],
                        "settle_no": "2024" + secrets.token_hex(10),
                    }
                    state.settles[biz["out_request_no"]] = {
                        **answer,
                        "gmt": now_text(),
                        "royalty_parameters": biz["royalty_parameters"],
                    }
                    return self._ok(method, answer)
                if method in ("alipay.fund.trans.uni.transfer", "alipay.fund.trans.common.query"):
                    transfer = state.transfers.get(biz["out_biz_no"])
                    if method == "alipay.fund.trans.common.query":
                        if transfer is None:
                            return self._refuse(method, "ORDER_NOT_EXIST", "转账订单不存在")
                        return self._ok(method, transfer)
                    if transfer is None:
                        identity = biz["payee_info"]["identity"]
                        if identity.startswith("fail"):
                            return self._refuse(method, "PAYEE_NOT_EXIST", "收款账号不存在")
                        transfer = state.transfers[biz["out_biz_no"]] = {
                            "out_biz_no": biz["out_biz_no"],
                            "order_id": "2024" + secrets.token_hex(10),
                            "pay_fund_order_id": "2024" + secrets.token_hex(10),
                            "status": "SUCCESS",
                            "trans_date": now_text(),
                            "trans_amount": biz["trans_amount"],
                            "payee": identity,
                            "order_title": biz.get("order_title", ""),
                        }
                    elif transfer["trans_amount"] != biz["trans_amount"]:
                        return self._refuse(
                            method,
                            "PAYMENT_INFO_INCONSISTENCY",
                            "两次请求商户单号一样但是要素不一致",
                        )
                    return self._ok(
                        method,
                        {
                            k: transfer[k]
                            for k in (
                                "out_biz_no",
                                "order_id",
                                "pay_fund_order_id",
                                "status",
                                "trans_date",
                            )
                        },
                    )
                if method == "alipay.data.dataservice.bill.downloadurl.query":
                    path = {"trade": "bill.zip", "signcustomer": "account-bill.zip"}.get(
                        biz.get("bill_type", "")
                    )
                    if path is None:
                        return self._refuse(method, "isv.invalid-bill-type", "账单类型不合法")
                    return self._ok(
                        method, {"bill_download_url": f"{fake.url}/{path}?{biz['bill_date']}"}
                    )
                return self._refuse(method, "isv.invalid-method", f"unknown method {method}")

            def _page(self, params: dict[str, str]) -> None:
                if not self._verified(params) or params.get("method") != "alipay.trade.wap.pay":
                    return self._write(
                        400,
                        "<p>验签出错 invalid signature</p>".encode(),
                        "text/html; charset=utf-8",
                    )
                biz = json.loads(params["biz_content"])
                with fake.lock:
                    trade = fake.state.trades.setdefault(
                        biz["out_trade_no"],
                        {
                            "out_trade_no": biz["out_trade_no"],
                            "total_amount": biz["total_amount"],
                            "notify_url": params.get("notify_url", ""),
                            "token": secrets.token_hex(8),
                            "trade_status": "WAIT_BUYER_PAY",
                        },
                    )
                page = (
                    "<!doctype html><meta charset='utf-8'><title>Alipay</title><h1>支付宝 Alipay</h1>"
                    f"<p id='amount'>¥{html.escape(trade['total_amount'])}</p>"
                    f"<form method='post' action='/pay/{trade['token']}'>"
                    "<button id='confirm' type='submit'>确认付款 Pay</button></form>"
                )
                self._write(200, page.encode(), "text/html; charset=utf-8")

            def _confirm(self, token: str) -> None:
                trade = next(
                    (t for t in fake.state.trades.values() if t.get("token") == token), None
                )
                if trade is None:
                    return self._write(404, b"", "text/plain")
                if trade.get("trade_status") == "TRADE_CLOSED":
                    page = (
                        "<!doctype html><meta charset='utf-8'><p id='result'>交易已关闭 closed</p>"
                    )
                    return self._write(400, page.encode(), "text/html; charset=utf-8")
                with fake.lock:
                    body = fake.pay(trade["out_trade_no"])
                status = fake.deliver(trade["notify_url"], body)
                page = f"<!doctype html><meta charset='utf-8'><p id='result'>付款成功 paid ({status})</p>"
                self._write(200, page.encode(), "text/html; charset=utf-8")

        return Handler

    def bill_zip(self, day: str) -> bytes:
        """The trade bill: a zip with the detail CSV (GBK, ``#`` comment lines) and a summary."""
        header = (
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
            "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
            "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
            "退款批次号/请求号,服务费（元）,分润（元）,备注"
        )
        rows = []
        trades = [
            {**trade, "total_amount": self.state.bill_amounts.get(no, trade["total_amount"])}
            for no, trade in self.state.trades.items()
        ] + [
            {
                "out_trade_no": no,
                "trade_no": "2024" + secrets.token_hex(8),
                "total_amount": amount,
                "gmt_payment": when,
                "trade_status": "TRADE_SUCCESS",
            }
            for no, amount, when in self.state.bill_unknown_trades
        ]
        for trade in trades:
            if trade.get("trade_status") != "TRADE_SUCCESS" or not trade["gmt_payment"].startswith(
                day
            ):
                continue
            fee = (Decimal(trade["total_amount"]) * Decimal("0.006")).quantize(Decimal("0.01"))
            rows.append(
                [
                    trade["trade_no"],
                    trade["out_trade_no"],
                    "交易",
                    "商品",
                    trade["gmt_payment"],
                    trade["gmt_payment"],
                    "",
                    "",
                    "",
                    "",
                    "buyer@example.com",
                    trade["total_amount"],
                    trade["total_amount"],
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "",
                    "0.00",
                    "0.00",
                    "",
                    f"-{fee}",
                    "0.00",
                    "",
                ]
            )
        for (out_trade_no, request_no), refund in self.state.refunds.items():
            if not refund["gmt"].startswith(day):
                continue
            trade = self.state.trades[out_trade_no]
            rows.append(
                [
                    trade["trade_no"],
                    out_trade_no,
                    "退款",
                    "商品",
                    refund["gmt"],
                    refund["gmt"],
                    "",
                    "",
                    "",
                    "",
                    "buyer@example.com",
                    f"-{self.state.bill_amounts.get(request_no, refund['refund_amount'])}",
                    f"-{self.state.bill_amounts.get(request_no, refund['refund_amount'])}",
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "",
                    "0.00",
                    "0.00",
                    request_no,
                    "0.00",
                    "0.00",
                    "",
                ]
            )
        lines = [
            "#支付宝业务明细查询",
            f"#账号：[{self.seller_id}0156]",
            f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            header,
        ]
        lines += [",".join(_tabbed(row, (0, 1, 21))) for row in rows]
        lines += [
            "#-----------------------------------------业务明细列表结束------------------------------------",
            f"#交易合计：{sum(1 for r in rows if r[2] == '交易')}笔，商家实收共"
            f"{sum(Decimal(r[12]) for r in rows if r[2] == '交易'):.2f}元，商家优惠共0.00元",
            f"#退款合计：{sum(1 for r in rows if r[2] == '退款')}笔，商家实收退款共"
            f"{sum(Decimal(r[12]) for r in rows if r[2] == '退款'):.2f}元，商家优惠退款共0.00元",
            f"#导出时间：[{now_text()}]",
        ]
        return self._bill_zip(
            day,
            "业务明细",
            lines,
            summary=[
                "#支付宝业务汇总查询",
                f"#账号：[{self.seller_id}0156]",
                "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,"
                "支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
                f"合计,,{sum(1 for r in rows if r[2] == '交易')},"
                f"{sum(1 for r in rows if r[2] == '退款')},"
                f"{sum(Decimal(r[11]) for r in rows):.2f},{sum(Decimal(r[12]) for r in rows):.2f},"
                "0.00,0.00,0.00,0.00,0.00,0.00",
                f"#导出时间：[{now_text()}]",
            ],
        )

    def account_bill_zip(self, day: str) -> bytes:
        """The account bill (账务明细, signcustomer) as the platform lays it out: ``#`` lines before
        the header and after the rows, the newer sixteen columns, long numbers followed by a tab.
        Each royalty receiver is a 交易分账 row paid out (支出) whose 商户订单号 is the split trade's
        out_trade_no (the settlement's out_request_no is on no row); each transfer a 转账 row
        whose 商户订单号 is its out_biz_no. A payment into the account is an income row."""
        header = (
            "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
            "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注,业务描述,业务账单来源,"
            "业务基础订单号,业务订单号"
        )
        by_trade_no = {t.get("trade_no"): no for no, t in self.state.trades.items()}
        movements = [
            (
                "交易分账",
                by_trade_no.get(settle["trade_no"], ""),
                self.state.account_bill_amounts.get(request_no, p["amount"]),
                settle["gmt"],
                p["trans_in"],
                settle["trade_no"],
                p.get("desc", ""),
            )
            for request_no, settle in self.state.settles.items()
            for p in settle["royalty_parameters"]
        ] + [
            (
                "转账",
                no,
                self.state.account_bill_amounts.get(no, t["trans_amount"]),
                t["trans_date"],
                t.get("payee", ""),
                t["order_id"],
                t.get("order_title", ""),
            )
            for no, t in self.state.transfers.items()
            if t["status"] == "SUCCESS"
        ]
        movements += [
            (kind, no, amount, when, "someone@example.com", "2024" + secrets.token_hex(8), "")
            for kind, no, amount, when in self.state.account_bill_unknown
        ]
        rows = []
        for kind, no, amount, when, counterparty, business_no, memo in movements:
            if not when.startswith(day):
                continue
            rows.append(
                [
                    "2024" + secrets.token_hex(10),
                    business_no,
                    no,
                    "",
                    when,
                    counterparty,
                    "",
                    f"-{amount}",
                    "1000.00",
                    "支付宝",
                    kind,
                    memo,
                    "",
                    "支付宝",
                    business_no,
                    "",
                ]
            )
        # A payment into the account: the trade bill's business, which reconciliation leaves out.
        rows.append(
            [
                "2024" + secrets.token_hex(10),
                "2024" + secrets.token_hex(8),
                "FXINCOME",
                "商品",
                f"{day} 00:00:01",
                "buy***@example.com",
                "1.00",
                "",
                "1001.00",
                "支付宝",
                "在线支付",
                "",
                "",
                "支付宝",
                "",
                "",
            ]
        )
        spent = sum(Decimal(r[7]) for r in rows if r[7])
        lines = [
            "#支付宝账务明细查询",
            f"#账号：[{self.seller_id}0156]",
            f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]",
            "#-----------------------------------------账务明细列表----------------------------------------",
            header,
        ]
        lines += [",".join(_tabbed(row, (0, 1, 2, 14))) for row in rows]
        lines += [
            "#-----------------------------------------账务明细列表结束------------------------------------",
            f"#支出合计：{len(rows) - 1}笔，共{spent:.2f}元",
            "#收入合计：1笔，共1.00元",
            f"#导出时间：[{now_text()}]",
        ]
        return self._bill_zip(
            day,
            "账务明细",
            lines,
            summary=[
                "#支付宝账务汇总查询",
                f"#账号：[{self.seller_id}0156]",
                "业务类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）",
                f"合计,1,1.00,{len(rows) - 1},{spent:.2f}",
                f"#导出时间：[{now_text()}]",
            ],
        )

    def _bill_zip(self, day: str, name: str, lines: list[str], *, summary: list[str]) -> bytes:
        """A bill as the platform serves it: a zip of the detail file and its summary (汇总),
        contents in GBK and member names GBK bytes without the zip's UTF-8 flag (what readers
        see as cp437)."""
        prefix = f"{self.seller_id}0156_{day.replace('-', '')}_{name}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, content in ((f"{prefix}.csv", lines), (f"{prefix}(汇总).csv", summary)):
                info = _GbkNamedZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
                archive.writestr(info, ("\r\n".join(content) + "\r\n").encode("gbk"))
        return buffer.getvalue()


class _GbkNamedZipInfo(zipfile.ZipInfo):
    """A member whose name is stored as GBK bytes with no UTF-8 flag, as Alipay's zips are."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.filename.encode("gbk"), self.flag_bits


def _tabbed(row: list[str], columns: tuple[int, ...]) -> list[str]:
    """The row with a tab after each non-empty cell of ``columns`` (the bill's long numbers)."""
    return [f"{cell}\t" if index in columns and cell else cell for index, cell in enumerate(row)]
