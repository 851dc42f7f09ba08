"""A Hypothesis state machine over withdrawals, driven only through the services.

One merchant with random withdrawal rules (minimum, fee and fee-free band, tax and threshold,
review or not) and three distributors whose available balance is moved up and down at random
(releases and clawbacks, so it goes negative: a debt). Withdrawals are requested (some to an
account the sandbox refuses), approved, rejected, paid out, paid out again and resumed by the
sweeper in any order.

After every step: each wallet equals the machine's own model and the ledger (``ledger_breaches``),
nothing was ever withdrawn beyond the available balance, fee + tax + net make up each amount,
the sandbox paid each withdrawal at most once and exactly the net of those paid, and each
withdrawal's history walks the transition table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.core.errors import Conflict, DomainError
from apps.core.money import ZERO
from apps.distributors.services import distributor_join
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Wallet
from apps.payments.models import SandboxPayout
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.quotes import withdrawal_quote
from apps.withdrawals.selectors import withdrawal_rules
from apps.withdrawals.services import (
    WITHDRAWAL_TRANSITIONS,
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
    withdrawal_resume,
    withdrawal_settings_update,
)
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory
from tests.properties.model import MACHINE_SETTINGS
from tests.withdrawals.conftest import fund

pytestmark = pytest.mark.django_db

D = Decimal
DISTRIBUTORS = 3
cents = st.integers(min_value=1, max_value=200_000).map(lambda n: D(n) / 100)
percents = st.integers(min_value=0, max_value=4_000).map(lambda n: D(n) / 100)


@dataclass
class WithdrawalM:
    pk: int
    distributor: int
    amount: Decimal
    net: Decimal
    fails: bool
    status: str = "requested"


class WithdrawalMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.merchant = None
        self.withdrawals: list[WithdrawalM] = []
        self.available: list[Decimal] = [ZERO] * DISTRIBUTORS
        self.withdrawing: list[Decimal] = [ZERO] * DISTRIBUTORS
        self.withdrawn: list[Decimal] = [ZERO] * DISTRIBUTORS
        self.fundings = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        minimum=cents,
        fee=percents,
        band=cents,
        tax=percents,
        threshold=cents,
        review=st.booleans(),
    )
    def setup(self, minimum, fee, band, tax, threshold, review):  # type: ignore[no-untyped-def]
        self.merchant = MerchantFactory()
        self.staff = MerchantStaffFactory(merchant=self.merchant).user
        self.settings = withdrawal_settings_update(
            merchant=self.merchant,
            minimum_amount=minimum,
            fee_percent=fee,
            fee_free_amount=band,
            tax_percent=tax,
            tax_threshold=threshold,
            review_required=review,
        )
        self.distributors = [
            distributor_join(merchant=self.merchant, user=UserFactory())
            for _ in range(DISTRIBUTORS)
        ]

    # --- rules --------------------------------------------------------------------------------

    @rule(who=st.integers(0, DISTRIBUTORS - 1), amount=st.integers(-30_000, 200_000))
    def move_balance(self, who, amount):  # type: ignore[no-untyped-def]
        """A release (positive) or a clawback (negative, possibly into debt)."""
        amount = D(amount) / 100
        if amount == ZERO:
            return
        self.fundings += 1
        fund(self.distributors[who], amount, key=f"machine:{self.fundings}")
        self.available[who] += amount

    @rule(
        who=st.integers(0, DISTRIBUTORS - 1),
        amount=cents,
        whole=st.booleans(),
        fails=st.booleans(),
    )
    def request(self, who, amount, whole, fails):  # type: ignore[no-untyped-def]
        if whole and self.available[who] > ZERO:
            amount = self.available[who]
        account = "fail-1" if fails else "alipay:1"
        try:
            withdrawal = withdrawal_request(
                merchant=self.merchant,
                distributor=self.distributors[who],
                amount=amount,
                account=account,
            )
        except DomainError as error:
            expected = (
                "below_minimum" if amount < self.settings.minimum_amount else "insufficient_balance"
            )
            assert error.code == expected
            assert expected == "below_minimum" or amount > self.available[who]
            return
        assert amount >= self.settings.minimum_amount
        assert amount <= self.available[who], "withdrew more than the available balance"
        quote = withdrawal_quote(amount=amount, rules=withdrawal_rules(self.settings))
        assert (withdrawal.fee, withdrawal.tax, withdrawal.net) == (quote.fee, quote.tax, quote.net)
        self.available[who] -= amount
        self.withdrawing[who] += amount
        self.withdrawals.append(
            WithdrawalM(
                pk=withdrawal.pk,
                distributor=who,
                amount=amount,
                net=withdrawal.net,
                fails=fails,
                status=withdrawal.status,
            )
        )

    def _pick(self, data, statuses):  # type: ignore[no-untyped-def]
        candidates = [w for w in self.withdrawals if w.status in statuses]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data())
    def approve(self, data):  # type: ignore[no-untyped-def]
        withdrawal = data.draw(st.sampled_from(self.withdrawals))
        try:
            withdrawal_approve(
                merchant=self.merchant, withdrawal_id=withdrawal.pk, actor=self.staff
            )
        except Conflict:
            assert withdrawal.status != "requested"
            return
        assert withdrawal.status == "requested"
        withdrawal.status = "approved"

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data())
    def reject(self, data):  # type: ignore[no-untyped-def]
        withdrawal = data.draw(st.sampled_from(self.withdrawals))
        try:
            withdrawal_reject(
                merchant=self.merchant,
                withdrawal_id=withdrawal.pk,
                actor=self.staff,
                reason="no",
            )
        except Conflict:
            assert withdrawal.status != "requested"
            return
        assert withdrawal.status == "requested"
        withdrawal.status = "rejected"
        self._return(withdrawal)

    def _return(self, withdrawal: WithdrawalM) -> None:
        self.withdrawing[withdrawal.distributor] -= withdrawal.amount
        self.available[withdrawal.distributor] += withdrawal.amount

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), resume=st.booleans())
    def pay(self, data, resume):  # type: ignore[no-untyped-def]
        withdrawal = data.draw(st.sampled_from(self.withdrawals))
        step = withdrawal_resume if resume else withdrawal_pay
        result = step(withdrawal_id=withdrawal.pk)
        if withdrawal.status == "approved":
            withdrawal.status = "failed" if withdrawal.fails else "paid"
            who = withdrawal.distributor
            if withdrawal.fails:
                self._return(withdrawal)
            else:
                self.withdrawing[who] -= withdrawal.amount
                self.withdrawn[who] += withdrawal.net
        assert result == withdrawal.status

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def balances_match_model_and_ledger(self):  # type: ignore[no-untyped-def]
        if self.merchant is None:
            return
        for index, distributor in enumerate(self.distributors):
            wallet = Wallet.objects.filter(distributor=distributor).first()
            actual = (
                (wallet.available, wallet.withdrawing, wallet.withdrawn)
                if wallet
                else (ZERO, ZERO, ZERO)
            )
            assert actual == (
                self.available[index],
                self.withdrawing[index],
                self.withdrawn[index],
            )
        assert ledger_breaches(merchant_id=self.merchant.pk) == []

    @invariant()
    def withdrawals_and_payouts(self):  # type: ignore[no-untyped-def]
        if self.merchant is None:
            return
        rows = {
            pk: (status, amount, fee + tax + net)
            for pk, status, amount, fee, tax, net in Withdrawal.objects.filter(
                merchant=self.merchant
            ).values_list("pk", "status", "amount", "fee", "tax", "net")
        }
        assert {w.pk: w.status for w in self.withdrawals} == {
            pk: row[0] for pk, row in rows.items()
        }
        assert all(amount == parts for _status, amount, parts in rows.values())
        keys = dict(
            Withdrawal.objects.filter(merchant=self.merchant).values_list("pk", "idempotency_key")
        )
        payouts = list(
            SandboxPayout.objects.filter(idempotency_key__in=keys.values()).values_list(
                "idempotency_key", "succeeded", "amount"
            )
        )
        assert len(payouts) == len({key for key, _ok, _amount in payouts})
        finished = {keys[w.pk]: w for w in self.withdrawals if w.status in ("paid", "failed")}
        assert {key for key, _ok, _amount in payouts} == set(finished)
        for key, succeeded, amount in payouts:
            assert succeeded == (finished[key].status == "paid")
            assert amount == finished[key].net

    @invariant()
    def history_walks_the_table(self):  # type: ignore[no-untyped-def]
        if self.merchant is None:
            return
        for withdrawal in Withdrawal.objects.filter(merchant=self.merchant).prefetch_related(
            "status_changes"
        ):
            steps = [(c.from_status, c.to_status) for c in withdrawal.status_changes.all()]
            assert steps[0] == ("", "requested")
            for old, new in steps[1:]:
                assert new in WITHDRAWAL_TRANSITIONS[old]
            assert steps[-1][1] == withdrawal.status


def test_withdrawal_machine(monkeypatch):
    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", lambda pk: None)
    run_state_machine_as_test(WithdrawalMachine, settings=MACHINE_SETTINGS)
