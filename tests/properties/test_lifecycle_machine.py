"""A Hypothesis state machine over the whole money lifecycle, driven only through the services.

One merchant (random platform fee, level percents, cap and freeze days, withdrawal minimum, fee,
fee-free band, tax and threshold, review required), a chain of four distributors A → B → C → D
and three buyers: one bound to D (levels D, C, B are paid; A, at level 4, never), one bound to B
(levels B, A), one unbound (no commission; the split still runs). Orders are placed, paid
(notifications duplicated and shuffled), cancelled, shipped, completed and settled (0-2 times);
refunds are requested (whole order, a line, a quantity, an amount; too much is refused), approved
(the provider's notification 1-3 times, shuffled with others; or refused by the provider),
rejected or withdrawn, before and after release; the clock advances and beat releases due
commission (never on a line with an open case); the split task runs; withdrawals are requested
(more than available is refused), approved and paid (to a "fail…" account: the payout fails and the
money returns), rejected, paid again.

After EVERY step (``lifecycle_invariants``): ``ledger_breaches() == []``; every wallet equals its
ledger entries AND the machine's own model to the cent (frozen, available, withdrawing, withdrawn;
and the provider, platform fee and tax accounts); each commission record per (line, beneficiary,
level) equals the model (amount ⌊base × rate⌋, reversals ⌈amount × refunded / paid⌉ computed by
hand in ``lifecycle_model``, status); no level above 3; no commission on a cancelled order and none
left on a fully refunded line; orders, refund cases, withdrawals, payouts (each paid once), splits
and stock equal the model.

Deterministic: ``derandomize=True``, fixed ``max_examples`` and ``stateful_step_count``, and none
of Hypothesis's "local constants" (below), so the examples are the same whether this module runs
alone or in the whole suite, on a new database or a reused one, whatever else in apps/ changed.
Each example starts from an empty database (asserted: no merchant yet) inside a transaction that
its teardown rolls back. ``LIFECYCLE_SEED=<n>`` runs other examples (``--hypothesis-seed`` has no
effect under ``derandomize``); the key paths are then reported, not required.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers as hypothesis_providers
from hypothesis.internal.constants_ast import Constants
from hypothesis.stateful import RuleBasedStateMachine, initialize, run_state_machine_as_test

from apps.commissions.services import commission_plan_update
from apps.core.money import ZERO
from apps.distributors.services import distributor_join
from apps.merchants.models import Merchant
from apps.merchants.services import merchant_create
from apps.products.services import product_create, sku_create
from apps.programme.binding import customer_bind
from apps.withdrawals.services import withdrawal_settings_update
from tests.factories import UserFactory

from .lifecycle_after_sale import AfterSaleRules
from .lifecycle_invariants import LifecycleInvariants
from .lifecycle_model import SEEN, Books
from .lifecycle_orders import OrderRules

D = Decimal
LIFECYCLE_SETTINGS = settings(
    max_examples=20,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)
if os.environ.get("LIFECYCLE_NO_SHRINK"):  # while hunting a failure: report it unshrunk, at once
    LIFECYCLE_SETTINGS = settings(
        LIFECYCLE_SETTINGS, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False
    )
cents = st.integers(min_value=1, max_value=99_999).map(lambda n: D(n) / 100)
percent = st.integers(min_value=0, max_value=2_000).map(lambda n: D(n) / 100)
# Levels that pay something in most examples (the shrinker still reaches the small ones).
level_percent = st.one_of(st.sampled_from([D("10"), D("5"), D("12.5"), D("20")]), percent)


class LifecycleMachine(LifecycleInvariants, OrderRules, AfterSaleRules, RuleBasedStateMachine):
    HUNDRED = D("100")
    MAX_ORDERS = 8

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.merchant = None
        self.orders: list = []
        self.records: dict = {}
        self.withdrawals: list = []
        self.books = Books()
        self.clock_days = 0
        self.split_percent = django_settings.FENXIAO_SPLIT_MAX_PERCENT

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        fee=st.integers(0, 1_000).map(lambda n: D(n) / 100),
        levels=st.tuples(level_percent, level_percent, level_percent),
        cap_slack=st.sampled_from([D("0"), D("0.01"), D("10")]),
        freeze_days=st.sampled_from([3, 0, 5]),
        prices=st.tuples(cents, cents),
        minimum=st.one_of(st.sampled_from([D("1.00")]), cents.filter(lambda c: c <= 20)),
        withdrawal_fee=percent,
        band=cents,
        tax=percent,
        threshold=cents,
    )
    def set_up(
        self,
        fee,
        levels,
        cap_slack,
        freeze_days,
        prices,
        minimum,
        withdrawal_fee,
        band,
        tax,
        threshold,
    ):
        # A known state: the services' global jobs (beat's release counts every store's records)
        # and the store's slug see only what this example makes.
        leftovers = list(Merchant.objects.values_list("slug", flat=True)[:5])
        assert not leftovers, f"the machine needs an empty database; it holds stores {leftovers}"
        self.merchant = merchant_create(
            name="Lifecycle Store", slug="lifecycle", owner=UserFactory(), platform_fee_percent=fee
        )
        self.fee = fee
        self.level_percents = dict(enumerate(levels, start=1))
        self.cap = min(max(sum(levels, ZERO) + cap_slack, ZERO), self.HUNDRED)
        self.freeze_days = freeze_days
        commission_plan_update(
            merchant=self.merchant,
            level1_percent=levels[0],
            level2_percent=levels[1],
            level3_percent=levels[2],
            max_total_percent=self.cap,
            freeze_days=freeze_days,
        )
        self.minimum, self.withdrawal_fee, self.band = minimum, withdrawal_fee, band
        self.tax, self.threshold = tax, threshold
        withdrawal_settings_update(
            merchant=self.merchant,
            minimum_amount=minimum,
            fee_percent=withdrawal_fee,
            fee_free_amount=band,
            tax_percent=tax,
            tax_threshold=threshold,
            review_required=True,
        )
        product = product_create(merchant=self.merchant, name="Tea")
        self.prices = list(prices)
        self.skus = [
            sku_create(
                merchant=self.merchant,
                product_id=product.pk,
                name=f"Tin {n}",
                code=f"T{n}",
                price=price,
                stock=100,
            )
            for n, price in enumerate(prices)
        ]
        self.stock = [100, 100]
        self.chain = [distributor_join(merchant=self.merchant, user=UserFactory())]
        for _ in range(3):
            self.chain.append(
                distributor_join(
                    merchant=self.merchant,
                    user=UserFactory(),
                    invite_code=self.chain[-1].invite_code,
                )
            )
        a, b, c, d = (x.pk for x in self.chain)
        self.users = [UserFactory() for _ in range(3)]
        customer_bind(
            merchant=self.merchant, customer=self.users[0], invite_code=self.chain[3].invite_code
        )
        customer_bind(
            merchant=self.merchant, customer=self.users[1], invite_code=self.chain[1].invite_code
        )
        self.snapshots = [(d, c, b), (b, a, None), (None, None, None)]


@pytest.fixture
def no_local_constants(monkeypatch):
    """Hypothesis (6.131 on) puts into about 5 % of its integer draws a literal read from the
    project's modules imported so far (apps/…, config/…; not tests/). The same derandomized seed
    then makes other examples when more modules are loaded (this module in the whole suite, after
    the storefront's views, against this module alone) or when any module gains a literal, and
    the machine's reach followed: paths reached alone were missed in the suite. With no local
    constants the examples depend on this machine's strategies only."""
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()
    monkeypatch.setattr(hypothesis_providers, "_get_local_constants", Constants)
    yield
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()


@pytest.mark.django_db
def test_money_lifecycle_state_machine(no_local_constants):
    SEEN.clear()
    machine: type[LifecycleMachine] = LifecycleMachine
    chosen_seed = os.environ.get("LIFECYCLE_SEED")
    if chosen_seed:
        machine = hypothesis_seed(int(chosen_seed))(
            type("SeededLifecycle", (LifecycleMachine,), {})
        )
    run_state_machine_as_test(machine, settings=LIFECYCLE_SETTINGS)
    print(sorted(SEEN.items()))
    reached = {what for what, count in SEEN.items() if count}
    if chosen_seed:
        print("seed", chosen_seed, "missed:", sorted(REACHED - reached))
        return
    assert reached >= REACHED, f"the examples never reached {sorted(REACHED - reached)}"
    print("also reached:", sorted(reached & REPORTED))


# Paths the examples must reach, or the machine proves less than it claims. Until the local
# constants were pinned (above), four of these were only reported: which examples the seed made
# depended on the modules the run had imported, so a path reached alone was missed in the suite.
# Pinned, the examples are the same alone and after other tests, on a new or a reused database
# (the same counts of every path, measured), so what they reach is required.
REACHED = {
    "clawback while frozen",
    "settled after a refund",
    "release held by an open refund case",
    "refunded in full before shipping",
    "refund refused: quantity_exceeds_refundable",
    "split planned (with commission)",
    "payout paid",
    "refund provider refused",
    "withdrawal refused: insufficient_balance",
    "withdrawal refused: below_minimum",
}
# Not reached by these 20 examples (nor by every unpinned run before): reported, with their own
# tests: tests/refunds/test_services.py and tests/concurrency/test_refunds.py (a clawback from the
# available balance), tests/withdrawals and the withdrawal machine (a failed payout, a rejection).
REPORTED = {"clawback after release", "payout failed", "withdrawal rejected"}
