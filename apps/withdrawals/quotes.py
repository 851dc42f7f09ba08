"""The withdrawal arithmetic: pure functions, no database.

For a withdrawal of ``amount`` (the gross, what leaves the available balance):

- fee = ``fee_percent`` % of (amount − ``fee_free_amount``), nothing when the amount is within the
  fee-free band. The band applies to each withdrawal (not per month), so the fee of one withdrawal
  never depends on another that may still be rejected or fail.
- tax = ``tax_percent`` % of (amount − ``tax_threshold``), nothing at or below the threshold; also
  per withdrawal, for the same reason.
- net = amount − fee − tax: what the distributor receives.

Fee and tax are rounded down to the cent (``percent_of``): the distributor is never charged a
fraction of a cent. Settings keep fee % + tax % below 100 %, so the net is always at least a cent.
"""

from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import ZERO, percent_of


@dataclass(frozen=True)
class WithdrawalRules:
    minimum_amount: Decimal
    fee_percent: Decimal
    fee_free_amount: Decimal
    tax_percent: Decimal
    tax_threshold: Decimal


@dataclass(frozen=True)
class WithdrawalQuote:
    amount: Decimal
    fee: Decimal
    tax: Decimal
    net: Decimal


def withdrawal_fee(*, amount: Decimal, rules: WithdrawalRules) -> Decimal:
    return percent_of(max(amount - rules.fee_free_amount, ZERO), rules.fee_percent)


def withdrawal_tax(*, amount: Decimal, rules: WithdrawalRules) -> Decimal:
    return percent_of(max(amount - rules.tax_threshold, ZERO), rules.tax_percent)


def withdrawal_quote(*, amount: Decimal, rules: WithdrawalRules) -> WithdrawalQuote:
    fee = withdrawal_fee(amount=amount, rules=rules)
    tax = withdrawal_tax(amount=amount, rules=rules)
    return WithdrawalQuote(amount=amount, fee=fee, tax=tax, net=amount - fee - tax)
