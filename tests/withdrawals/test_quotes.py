"""The withdrawal arithmetic, table-driven, expected amounts computed by hand to the cent."""

from decimal import Decimal

import pytest

from apps.withdrawals.quotes import WithdrawalQuote, WithdrawalRules, withdrawal_quote

D = Decimal

# fee 1.5 % above a ¥100 fee-free band; tax 20 % above ¥800
BANDED = WithdrawalRules(
    minimum_amount=D("10.00"),
    fee_percent=D("1.50"),
    fee_free_amount=D("100.00"),
    tax_percent=D("20.00"),
    tax_threshold=D("800.00"),
)
# fee 0.6 % on everything, no tax
FLAT = WithdrawalRules(
    minimum_amount=D("0.01"),
    fee_percent=D("0.60"),
    fee_free_amount=D("0.00"),
    tax_percent=D("0.00"),
    tax_threshold=D("800.00"),
)
# fee + tax = 99.99 %, the most the settings allow: the net is still at least a cent
EXTREME = WithdrawalRules(
    minimum_amount=D("0.01"),
    fee_percent=D("49.99"),
    fee_free_amount=D("0.00"),
    tax_percent=D("50.00"),
    tax_threshold=D("0.00"),
)

CASES = [
    # rules, amount, fee, tax, net
    (BANDED, "50.00", "0.00", "0.00", "50.00"),  # inside the fee-free band
    (BANDED, "100.00", "0.00", "0.00", "100.00"),  # exactly the band
    (BANDED, "100.01", "0.00", "0.00", "100.01"),  # 1.5 % of 0.01 = 0.00015 → 0.00
    (BANDED, "200.00", "1.50", "0.00", "198.50"),  # 1.5 % of 100
    (BANDED, "333.33", "3.49", "0.00", "329.84"),  # 1.5 % of 233.33 = 3.49995 → 3.49
    (BANDED, "800.00", "10.50", "0.00", "789.50"),  # at the tax threshold: no tax
    (BANDED, "800.01", "10.50", "0.00", "789.51"),  # 1.5 % of 700.01 = 10.50015; 20 % of 0.01
    (BANDED, "1000.00", "13.50", "40.00", "946.50"),  # 1.5 % of 900; 20 % of 200
    (BANDED, "1234.56", "17.01", "86.91", "1130.64"),  # 17.0184 → 17.01; 86.912 → 86.91
    (FLAT, "0.01", "0.00", "0.00", "0.01"),
    (FLAT, "99.99", "0.59", "0.00", "99.40"),  # 0.59994 → 0.59
    (FLAT, "10000.00", "60.00", "0.00", "9940.00"),
    (EXTREME, "0.01", "0.00", "0.00", "0.01"),
    (EXTREME, "100.00", "49.99", "50.00", "0.01"),
    (EXTREME, "0.03", "0.01", "0.01", "0.01"),  # 0.014997 → 0.01; 0.015 → 0.01
]


@pytest.mark.parametrize(("rules", "amount", "fee", "tax", "net"), CASES)
def test_fee_tax_and_net_to_the_cent(rules, amount, fee, tax, net):
    assert withdrawal_quote(amount=D(amount), rules=rules) == WithdrawalQuote(
        amount=D(amount), fee=D(fee), tax=D(tax), net=D(net)
    )


@pytest.mark.parametrize(("rules", "amount", "fee", "tax", "net"), CASES)
def test_the_parts_add_up_to_the_amount(rules, amount, fee, tax, net):
    quote = withdrawal_quote(amount=D(amount), rules=rules)
    assert quote.fee + quote.tax + quote.net == quote.amount
    assert quote.net >= D("0.01")
