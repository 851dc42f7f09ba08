"""A Hypothesis state machine over supplied goods' money, the sibling of the lifecycle machine
(``test_lifecycle_machine.py``), driven only through the services.

One store (random platform fee, commission cap and freeze days) sells its own goods and two
suppliers' goods (random supply prices, priced at three times them), through a distributor that
earns commission on every line. Orders mixing the three are placed and paid (the notification
repeated), their parcels shipped one by one, completed and settled; refunds of an amount of a line
are requested and approved with the supplier or the store bearing them, or left open and rejected
later; the clock advances and beat releases due commission and suppliers' shares.

After EVERY step: ``ledger_breaches() == []``; every supplier's share equals the machine's own
model — supply price × quantity, taken back ⌈share × (what the supplier bore) / line paid⌉ on the
cumulative amount, frozen / released / cancelled, never released before the window or with a case
open on its line; each supplier's wallet with the store equals the model's sums; and per order the
consumer paid = merchant + suppliers + distributors + platform fee + refunds, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_UP, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from apps.commissions.services import (
    commission_plan_update,
    commission_settle_orders,
    commissions_release_due,
)
from apps.core.errors import DomainError
from apps.core.money import ZERO, quantize_money
from apps.distributors.services import distributor_join
from apps.dropship.models import Shipment, SupplyShare
from apps.dropship.services import shipment_ship, supply_pick
from apps.dropship.supply_money import supply_release_due
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, SupplierWallet
from apps.merchants.services import merchant_create
from apps.orders.models import Order
from apps.orders.services import order_complete, order_place
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.services import product_create, sku_create
from apps.programme.binding import customer_bind
from apps.refunds.models import RefundCase
from apps.refunds.services import (
    RefundLineRequest,
    refund_approve,
    refund_reject,
    refund_request,
)
from apps.suppliers.models import Supplier, SupplyProduct, SupplySku
from tests.factories import UserFactory
from tests.refunds.conftest import notify

from .model import PAID_AT, RECIPIENT

D = Decimal
A = LedgerEntry.Account
SUPPLY_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)
SEEN: dict[str, int] = {}


def note(what: str) -> None:
    SEEN[what] = SEEN.get(what, 0) + 1


@dataclass
class ShareM:
    """The model of one supplied line's share."""

    supplier: int
    amount: Decimal
    line_paid: Decimal
    borne: Decimal = ZERO  # refunded on the line with the supplier bearing it
    reversed: Decimal = ZERO
    status: str = "frozen"
    release_at: object = None


@dataclass
class OrderM:
    pk: int
    payment_id: int
    lines: dict[int, Decimal]  # order line id → paid amount
    refunded: dict[int, Decimal] = field(default_factory=dict)
    shipped: bool = False
    completed: bool = False
    open_cases: list[int] = field(default_factory=list)


class SupplyMachine(RuleBasedStateMachine):
    MAX_ORDERS = 6

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.orders: list[OrderM] = []
        self.shares: dict[int, ShareM] = {}  # order line id → model
        self.clock_days = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize(
        fee=st.integers(0, 500).map(lambda n: D(n) / 100),
        cap=st.sampled_from([D("10"), D("30"), D("45")]),
        freeze_days=st.sampled_from([0, 3, 7]),
        supply_prices=st.tuples(
            st.integers(100, 5_000).map(lambda n: D(n) / 100),
            st.integers(1, 3_333).map(lambda n: D(n) / 100),
        ),
    )
    def set_up(self, fee, cap, freeze_days, supply_prices):
        self.merchant = merchant_create(
            name="Supply Store", slug="supply-store", owner=UserFactory(), platform_fee_percent=fee
        )
        self.freeze_days = freeze_days
        commission_plan_update(
            merchant=self.merchant,
            level1_percent=cap,
            level2_percent=D("0"),
            level3_percent=D("0"),
            max_total_percent=cap,
            freeze_days=freeze_days,
        )
        own = sku_create(
            merchant=self.merchant,
            product_id=product_create(merchant=self.merchant, name="House tea").pk,
            name="Tin",
            code="OWN",
            price=D("19.90"),
            stock=1_000,
        )
        self.skus = [own]
        self.suppliers = []
        for n, supply_price in enumerate(supply_prices):
            supplier = Supplier.objects.create(name=f"Farm {n}", slug=f"farm-{n}")
            product = SupplyProduct.objects.create(supplier=supplier, name=f"Farm {n} goods")
            pool = SupplySku.objects.create(
                supplier=supplier,
                product=product,
                name="Box",
                code=f"S{n}",
                supply_price=supply_price,
                suggested_retail_price=supply_price * 3,
                min_retail_price=supply_price * 2,
                stock=1_000,
            )
            picked = supply_pick(
                merchant=self.merchant,
                supply_product_id=product.pk,
                prices={pool.pk: supply_price * 3},
            )
            self.skus.append(picked.skus.get())
            self.suppliers.append(supplier.pk)
        self.supply_prices = dict(zip(self.suppliers, supply_prices, strict=True))
        self.distributor = distributor_join(merchant=self.merchant, user=UserFactory())
        self.buyer = UserFactory()
        customer_bind(
            merchant=self.merchant, customer=self.buyer, invite_code=self.distributor.invite_code
        )

    # --- rules -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.orders) < self.MAX_ORDERS)
    @rule(
        quantities=st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3)).filter(
            lambda q: q[1] + q[2] > 0
        ),
        notifications=st.integers(1, 3),
    )
    def place_and_pay(self, quantities, notifications):
        lines = [(sku.pk, n) for sku, n in zip(self.skus, quantities, strict=True) if n]
        order = order_place(
            merchant=self.merchant, customer=self.buyer, lines=lines, recipient=RECIPIENT
        )
        payment = payment_start(merchant=self.merchant, customer=self.buyer, order_id=order.pk)
        body = sandbox_notification_body(
            out_trade_no=payment.out_trade_no,
            provider_trade_no=f"SBX{payment.pk}",
            amount=payment.amount,
            paid_at=PAID_AT,
        )
        outcomes = [
            payment_handle_notification(
                provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
            )
            for _ in range(notifications)
        ]
        assert outcomes[0] == "paid"
        model = OrderM(pk=order.pk, payment_id=payment.pk, lines={})
        for line in order.lines.order_by("id"):
            model.lines[line.pk] = line.paid_amount
            if line.supplier_id is not None:
                self.shares[line.pk] = ShareM(
                    supplier=line.supplier_id,
                    amount=self.supply_prices[line.supplier_id] * line.quantity,
                    line_paid=line.paid_amount,
                )
        self.orders.append(model)
        note("paid")

    @precondition(lambda self: any(not o.shipped for o in self.orders))
    @rule(data=st.data())
    def ship_parcels(self, data):
        order = data.draw(st.sampled_from([o for o in self.orders if not o.shipped]))
        parcels = list(Shipment.objects.filter(order_id=order.pk).order_by("id"))
        for parcel in data.draw(st.permutations(parcels)):
            shipment_ship(
                shipment=parcel, carrier="SF", tracking_number=f"SF{parcel.pk}", actor=None
            )
        order.shipped = True
        assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED
        note("shipped by parcel")

    @precondition(lambda self: any(o.shipped and not o.completed for o in self.orders))
    @rule(data=st.data())
    def complete_and_settle(self, data):
        order = data.draw(
            st.sampled_from([o for o in self.orders if o.shipped and not o.completed])
        )
        row = Order.objects.get(pk=order.pk)
        assert order_complete(order=row) is True
        commission_settle_orders(order_id=order.pk)
        row.refresh_from_db()
        order.completed = True
        for line_id in order.lines:
            if line_id in self.shares and self.shares[line_id].status == "frozen":
                self.shares[line_id].release_at = row.completed_at + timedelta(
                    days=self.freeze_days
                )
        note("completed")

    @precondition(lambda self: self.orders)
    @rule(
        data=st.data(),
        fraction=st.sampled_from([D("1"), D("0.5"), D("0.3333")]),
        borne_by=st.sampled_from(RefundCase.SupplyBorneBy.values),
        leave_open=st.booleans(),
    )
    def refund_a_line(self, data, fraction, borne_by, leave_open):
        order = data.draw(st.sampled_from(self.orders))
        line_id = data.draw(st.sampled_from(sorted(order.lines)))
        left = order.lines[line_id] - order.refunded.get(line_id, ZERO)
        amount = quantize_money(left * fraction)
        if amount <= ZERO:
            return
        try:
            case = refund_request(
                merchant=self.merchant,
                customer=self.buyer,
                order_id=order.pk,
                kind=RefundCase.Kind.AMOUNT,
                reason="broken",
                lines=[RefundLineRequest(order_line_id=line_id, amount=amount)],
            )
        except DomainError as refused:
            note(f"refund refused: {refused.code}")
            return
        if leave_open:
            order.open_cases.append(case.pk)
            note("case left open")
            return
        refund_approve(
            merchant=self.merchant, case_id=case.pk, actor=None, supply_borne_by=borne_by
        )
        case.refresh_from_db()
        assert notify(case) == "refunded"
        order.refunded[line_id] = order.refunded.get(line_id, ZERO) + amount
        share = self.shares.get(line_id)
        if share is not None and share.status != "cancelled":
            if borne_by == RefundCase.SupplyBorneBy.SUPPLIER:
                share.borne += amount
                share.reversed = self._target(share)
                if share.status == "frozen" and share.reversed == share.amount:
                    share.status = "cancelled"
                note(f"supplier bore a refund ({share.status})")
            else:
                note("the store bore a refund")

    @precondition(lambda self: any(o.open_cases for o in self.orders))
    @rule(data=st.data())
    def reject_open_case(self, data):
        order = data.draw(st.sampled_from([o for o in self.orders if o.open_cases]))
        refund_reject(
            merchant=self.merchant, case_id=order.open_cases.pop(0), actor=None, reason="no"
        )

    @rule(days=st.integers(1, 8))
    def time_passes_and_beat_releases(self, days):
        self.clock_days += days
        now = timezone.now() + timedelta(days=self.clock_days)
        commissions_release_due(now=now)
        supply_release_due(now=now)
        held = {
            line_id
            for order in self.orders
            for case_id in order.open_cases
            for line_id in RefundCase.objects.get(pk=case_id).lines.values_list(
                "order_line_id", flat=True
            )
        }
        for line_id, share in self.shares.items():
            if share.status == "frozen" and share.release_at and share.release_at <= now:
                if line_id in held:
                    note("release held by an open case")
                    continue
                share.status = "released"
                note("supplier's share released")

    def _target(self, share: ShareM) -> Decimal:
        if share.borne >= share.line_paid:
            return share.amount
        return min(
            share.amount,
            (share.amount * share.borne / share.line_paid).quantize(D("0.01"), rounding=ROUND_UP),
        )

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def the_ledger_is_sound(self):
        if getattr(self, "merchant", None) is not None:
            assert ledger_breaches(merchant_id=self.merchant.pk) == []

    @invariant()
    def every_share_equals_the_model(self):
        rows = {
            row.order_line_id: row
            for row in SupplyShare.objects.filter(merchant_id=getattr(self.merchant, "pk", None))
        }
        assert set(rows) == set(self.shares)
        for line_id, model in self.shares.items():
            row = rows[line_id]
            assert (row.supplier_id, row.amount, row.reversed_amount, row.status) == (
                model.supplier,
                model.amount,
                model.reversed,
                model.status,
            ), line_id

    @invariant()
    def every_supplier_wallet_equals_the_model(self):
        if getattr(self, "merchant", None) is None:
            return
        for supplier_id in self.suppliers:
            frozen = sum(
                (
                    s.amount - s.reversed
                    for s in self.shares.values()
                    if s.supplier == supplier_id and s.status == "frozen"
                ),
                ZERO,
            )
            released = sum(
                (
                    s.amount - s.reversed
                    for s in self.shares.values()
                    if s.supplier == supplier_id and s.status == "released"
                ),
                ZERO,
            )
            wallet = SupplierWallet.objects.filter(
                merchant=self.merchant, supplier_id=supplier_id
            ).first()
            held = (wallet.frozen, wallet.available) if wallet else (ZERO, ZERO)
            assert held == (frozen, released), supplier_id

    @invariant()
    def the_consumer_paid_everyones_share(self):
        for order in self.orders:
            legs = dict(
                LedgerEntry.objects.filter(journal__order_id=order.pk)
                .values("account")
                .annotate(total=Sum("amount"))
                .values_list("account", "total")
            )
            paid = Payment.objects.get(pk=order.payment_id).amount
            refunds = sum(order.refunded.values(), ZERO)
            supplier = sum(
                (legs.get(a, ZERO) for a in (A.SUPPLIER_FROZEN, A.SUPPLIER_AVAILABLE)), ZERO
            )
            distributors = sum(
                (legs.get(a, ZERO) for a in (A.FROZEN, A.AVAILABLE, A.WITHDRAWN)), ZERO
            )
            merchant = legs.get(A.MERCHANT_PAYABLE, ZERO)
            fee = legs.get(A.PLATFORM_FEE, ZERO)
            assert paid == merchant + supplier + distributors + fee + refunds, order.pk
            assert supplier == sum(
                (
                    s.amount - s.reversed
                    for line_id, s in self.shares.items()
                    if line_id in order.lines and s.status != "cancelled"
                ),
                ZERO,
            )


@pytest.mark.django_db
def test_supplied_goods_money_state_machine():
    SEEN.clear()
    run_state_machine_as_test(SupplyMachine, settings=SUPPLY_SETTINGS)
    print(sorted(SEEN.items()))
    reached = {what for what, count in SEEN.items() if count}
    assert reached >= REACHED, f"the examples never reached {sorted(REACHED - reached)}"


REACHED = {
    "paid",
    "shipped by parcel",
    "completed",
    "supplier bore a refund (frozen)",
    "the store bore a refund",
    "supplier's share released",
    "case left open",
}
