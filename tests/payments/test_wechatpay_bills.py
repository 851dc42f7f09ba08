"""WeChat Pay's trade and fund bills parsed from text written by hand in the documented layout
(GET /v3/bill/tradebill and /v3/bill/fundflowbill, then the download address; the BOM is gone
once decoded): a header line, every value after a backtick, then the summary's header and line.
No database, no fake."""

from datetime import datetime
from decimal import Decimal

import pytest

from apps.payments.providers.sandbox import SHANGHAI
from apps.payments.providers.wechatpay import WeChatPayError, parse_fund_bill, parse_trade_bill

D = Decimal


def row(*cells: str) -> str:
    return ",".join("`" + cell for cell in cells)


def split(text: str) -> list[str]:
    return text.split(",")


TRADE_BILL = "\r\n".join(
    [
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
        row(
            *split(
                "2026-12-03 10:00:00,wx8888888888888888,1900000109,0,,4200000001202612030000000001,"
                "FX20261203W1,oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,MWEB,SUCCESS,OTHERS,CNY,59.80,0.00,0,0,0.00,"
                "0.00,,,Order FX20261203W1,,0.36,0.60%,59.80,0.00,"
            )
        ),
        row(
            *split(
                "2026-12-03 15:30:00,wx8888888888888888,1900000109,0,,4200000001202612030000000001,"
                "FX20261203W1,oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,MWEB,REFUND,OTHERS,CNY,0.00,0.00,"
                "50300000012026120300000000001,RF-00043,10.00,0.00,ORIGINAL,SUCCESS,Order FX20261203W1,,"
                "-0.06,0.60%,0.00,10.00,"
            )
        ),
        row(
            *split(
                "2026-12-03 16:00:00,wx8888888888888888,1900000109,0,,4200000001202612030000000002,"
                "FX20261203W2,oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,MWEB,REVOKED,OTHERS,CNY,5.00,0.00,0,0,0.00,"
                "0.00,,,Order FX20261203W2,,0.00,0.60%,5.00,0.00,"
            )
        ),
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
        row("3", "59.80", "10.00", "0.00", "0.30", "64.80", "10.00"),
        "",
    ]
)


def fund_bill(amount_header: str) -> str:
    return "\r\n".join(
        [
            "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,"
            f"{amount_header},账户结余(元),资金变更提交申请人,备注,业务凭证号",
            row(
                "2026-12-03 10:00:05",
                "4200000001202612030000000001",
                "1900000109202612030000000001",
                "交易",
                "交易",
                "收入",
                "59.80",
                "1059.80",
                "system",
                "",
                "4200000001202612030000000001",
            ),
            row(
                "2026-12-03 18:00:00",
                "30000000012026120300000000001",
                "1900000109202612030000000002",
                "分账",
                "分账",
                "支出",
                "3.20",
                "1056.60",
                "system",
                "distributor share",
                "SPL-FX20261203W1-d7",
            ),
            row(
                "2026-12-03 19:00:00",
                "1330000012026120300000000001",
                "1900000109202612030000000003",
                "商家转账",
                "商家转账",
                "支出",
                "20.00",
                "1036.60",
                "system",
                "",
                "WD00071",
            ),
            "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额",
            row("3", "1", "59.80", "2", "23.20"),
            "",
        ]
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_the_trade_bill_lists_successes_and_refunds_and_stops_at_the_summary():
    lines = parse_trade_bill(TRADE_BILL)

    assert [
        (line.kind, line.reference, line.amount, line.fee, line.occurred_at) for line in lines
    ] == [
        ("payment", "FX20261203W1", D("59.80"), D("0.36"), at("2026-12-03 10:00:00")),
        ("refund", "RF-00043", D("10.00"), D("0.00"), at("2026-12-03 15:30:00")),
    ]
    assert lines[1].provider_reference == "50300000012026120300000000001"


@pytest.mark.parametrize("amount_header", ["收支金额(元)", "收支金额（元）"])
def test_the_fund_bill_lists_splits_and_transfers_paid_out_whichever_parentheses(amount_header):
    lines = parse_fund_bill(fund_bill(amount_header))

    assert [(line.kind, line.reference, line.amount, line.occurred_at) for line in lines] == [
        ("split", "SPL-FX20261203W1-d7", D("3.20"), at("2026-12-03 18:00:00")),
        ("payout", "WD00071", D("20.00"), at("2026-12-03 19:00:00")),
    ]


def test_a_fund_bill_without_a_column_the_parser_reads_is_a_format_error():
    with pytest.raises(WeChatPayError) as raised:
        parse_fund_bill(fund_bill("金额"))

    assert raised.value.code == "BILL_FORMAT"
