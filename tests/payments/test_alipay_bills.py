"""Alipay's bills parsed from files laid out as the platform serves them, written here by hand from
the documented layout (alipay.data.dataservice.bill.downloadurl.query and the account log's
field descriptions): a zip whose member names are GBK bytes without the UTF-8 flag, GBK CSV,
``#`` lines around the header and rows, a summary file with a header of its own, long numbers
followed by a tab. No database, no fake: these pin the parser to the layout itself."""

import io
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest

from apps.payments.providers.alipay import (
    AlipayError,
    parse_account_bill_zip,
    parse_bill_zip,
)
from apps.payments.providers.sandbox import SHANGHAI

D = Decimal
PID = "2088101122334455"

TRADE_BILL = [
    "#支付宝业务明细查询",
    f"#账号：[{PID}0156]",
    "#起始日期：[2026-12-03 00:00:00]   终止日期：[2026-12-03 23:59:59]",
    "#-----------------------------------------业务明细列表----------------------------------------",
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
    "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,"
    "分润（元）,备注",
    "2026120322001411111111111111\t,FX20261203A1\t,交易,Order FX20261203A1,2026-12-03 10:00:00,"
    "2026-12-03 10:00:07,,,,,buy***@example.com,59.80,59.80,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,"
    "-0.36,0.00,",
    "2026120322001411111111111111\t,FX20261203A1\t,退款,Order FX20261203A1,2026-12-03 10:00:00,"
    "2026-12-03 15:30:00,,,,,buy***@example.com,-10.00,-10.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,"
    "RF-00042\t,0.06,0.00,",
    "#-----------------------------------------业务明细列表结束------------------------------------",
    "#交易合计：1笔，商家实收共59.80元，商家优惠共0.00元",
    "#退款合计：1笔，商家实收退款共-10.00元，商家优惠退款共0.00元",
    "#导出时间：[2026-12-04 10:12:31]",
]
TRADE_SUMMARY = [
    "#支付宝业务汇总查询",
    f"#账号：[{PID}0156]",
    "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,服务费（元）,实收净额（元）",
    "合计,,1,1,49.80,49.80,-0.30,49.50",
    "#导出时间：[2026-12-04 10:12:31]",
]
ACCOUNT_HEADER = (
    "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,"
    "账户余额（元）,交易渠道,业务类型,备注,业务描述,业务账单来源,业务基础订单号,业务订单号"
)
ACCOUNT_BILL = [
    "#支付宝账务明细查询",
    f"#账号：[{PID}0156]",
    "#起始日期：[2026-12-03 00:00:00]   终止日期：[2026-12-03 23:59:59]",
    "#-----------------------------------------账务明细列表----------------------------------------",
    ACCOUNT_HEADER,
    # The payment coming in, and Alipay's fee for it: the trade bill's business.
    "20261203110070001506330000111111\t,2026120322001411111111111111\t,FX20261203A1\t,"
    "Order FX20261203A1,2026-12-03 10:00:07,buy***@example.com,59.80,,1059.80,支付宝,在线支付,"
    ",,支付宝,2026120322001411111111111111\t,",
    "20261203110070001506330000111112\t,2026120322001411111111111111\t,FX20261203A1\t,"
    "Order FX20261203A1,2026-12-03 10:00:07,,,-0.36,1059.44,支付宝,收费,服务费[FX20261203A1],"
    ",支付宝,2026120322001411111111111111\t,",
    # Two receivers of one trade's royalty: each its own row, named by the trade's out_trade_no.
    "20261203110070001506330000111113\t,2026120322001411111111111111\t,FX20261203A1\t,,"
    "2026-12-03 18:00:00,d1***@example.com,,-3.20,1056.24,支付宝,交易分账,distributor share,"
    ",支付宝,2026120322001411111111111111\t,",
    "20261203110070001506330000111114\t,2026120322001411111111111111\t,FX20261203A1\t,,"
    "2026-12-03 18:00:00,plat***@example.com,,-1.80,1054.44,支付宝,交易分账,platform share,"
    ",支付宝,2026120322001411111111111111\t,",
    # A withdrawal paid by transfer: named by its out_biz_no.
    "20261203110070001506330000111115\t,20261203020070011500330000222222\t,WD-0007-1\t,,"
    "2026-12-03 19:00:00,d2***@example.com,,-20.00,1034.44,支付宝,转账,Withdrawal WD-0007,"
    ",支付宝,20261203020070011500330000222222\t,",
    # Money coming back by royalty (a receiver's refund share): not a split paid out.
    "20261203110070001506330000111116\t,2026120322001411111111111111\t,FX20261203A1\t,,"
    "2026-12-03 20:00:00,d1***@example.com,0.50,,1034.94,支付宝,交易分账,,"
    ",支付宝,2026120322001411111111111111\t,",
    "#-----------------------------------------账务明细列表结束------------------------------------",
    "#支出合计：4笔，共-25.36元",
    "#收入合计：2笔，共60.30元",
    "#导出时间：[2026-12-04 10:12:35]",
]
ACCOUNT_SUMMARY = [
    "#支付宝账务汇总查询",
    f"#账号：[{PID}0156]",
    "业务类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）",
    "交易分账,1,0.50,2,-5.00",
    "#导出时间：[2026-12-04 10:12:35]",
]


class GbkNamedZipInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes with no UTF-8 flag, as Alipay's zips store them."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.filename.encode("gbk"), self.flag_bits


def bill_zip(name: str, detail: list[str], summary: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        prefix = f"{PID}0156_20261203_{name}"
        for member, lines in ((f"{prefix}.csv", detail), (f"{prefix}(汇总).csv", summary)):
            info = GbkNamedZipInfo(member, date_time=(2026, 12, 4, 10, 12, 31))
            archive.writestr(info, ("\r\n".join(lines) + "\r\n").encode("gbk"))
    return buffer.getvalue()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_the_fixture_is_laid_out_as_alipay_serves_it():
    archive = zipfile.ZipFile(io.BytesIO(bill_zip("账务明细", ACCOUNT_BILL, ACCOUNT_SUMMARY)))
    # Python reads the GBK names as cp437: a reader that looks for 汇总 in them finds nothing.
    assert all(not info.flag_bits & 0x800 for info in archive.infolist())
    assert not any("汇总" in name for name in archive.namelist())


def test_the_trade_bill_lists_payments_and_refunds_and_leaves_the_summary_file_out():
    lines = parse_bill_zip(bill_zip("业务明细", TRADE_BILL, TRADE_SUMMARY))

    assert [
        (
            line.kind,
            line.reference,
            line.provider_reference,
            line.amount,
            line.fee,
            line.occurred_at,
        )
        for line in lines
    ] == [
        (
            "payment",
            "FX20261203A1",
            "2026120322001411111111111111",
            D("59.80"),
            D("0.36"),
            at("2026-12-03 10:00:07"),
        ),
        (
            "refund",
            "RF-00042",
            "2026120322001411111111111111",
            D("10.00"),
            D("0.00"),
            at("2026-12-03 15:30:00"),
        ),
    ]
    assert {line.out_trade_no for line in lines} == {"FX20261203A1"}


def test_the_account_bill_lists_each_royalty_receiver_by_the_trade_and_a_transfer_by_its_number():
    lines = parse_account_bill_zip(bill_zip("账务明细", ACCOUNT_BILL, ACCOUNT_SUMMARY))

    assert [
        (line.kind, line.reference, line.out_trade_no, line.receiver, line.amount, line.occurred_at)
        for line in lines
    ] == [
        (
            "split",
            "FX20261203A1",
            "FX20261203A1",
            "d1***@example.com",
            D("3.20"),
            at("2026-12-03 18:00:00"),
        ),
        (
            "split",
            "FX20261203A1",
            "FX20261203A1",
            "plat***@example.com",
            D("1.80"),
            at("2026-12-03 18:00:00"),
        ),
        ("payout", "WD-0007-1", "", "", D("20.00"), at("2026-12-03 19:00:00")),
    ]
    assert lines[2].provider_reference == "20261203020070011500330000222222"


def test_the_older_twelve_column_account_bill_reads_the_same():
    old_header = ",".join(ACCOUNT_HEADER.split(",")[:12])
    detail = [
        old_header if line == ACCOUNT_HEADER else ",".join(line.split(",")[:12])
        for line in ACCOUNT_BILL
    ]

    lines = parse_account_bill_zip(bill_zip("账务明细", detail, ACCOUNT_SUMMARY))

    assert [(line.kind, line.reference, line.amount) for line in lines] == [
        ("split", "FX20261203A1", D("3.20")),
        ("split", "FX20261203A1", D("1.80")),
        ("payout", "WD-0007-1", D("20.00")),
    ]


@pytest.mark.parametrize(
    ("name", "detail", "column"),
    [
        ("业务明细", TRADE_BILL, "退款批次号/请求号"),
        ("账务明细", ACCOUNT_BILL, "业务类型"),
        ("账务明细", ACCOUNT_BILL, "支出金额（-元）"),
    ],
)
def test_a_bill_without_a_column_the_parser_reads_is_a_format_error(name, detail, column):
    without = [line.replace(column, "某列") for line in detail]
    parse = parse_bill_zip if name == "业务明细" else parse_account_bill_zip

    with pytest.raises(AlipayError) as raised:
        parse(bill_zip(name, without, []))

    assert raised.value.code == "BILL_FORMAT"
