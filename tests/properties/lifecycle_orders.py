"""Lifecycle machine rules up to settlement: place, pay (notifications duplicated and reordered),
cancel, ship, complete and settle; with the model's side of each (and of a refund's success)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from apps.commissions.services import commission_settle_orders
from apps.core.errors import Conflict
from apps.orders.models import Order, OrderLine
from apps.orders.services import (
    order_cancel,
    order_complete,
    order_get_for_customer,
    order_get_for_merchant,
    order_place,
    order_ship,
)
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start

from .lifecycle_model import (
    CS,
    RS,
    ZERO,
    CaseM,
    LineM,
    OrderM,
    RecordM,
    S,
    ceil_share,
    floor_share,
    note,
    percent_floor,
)
from .model import PAID_AT, RECIPIENT


def _orders_in(*statuses):
    def check(machine) -> bool:
        return any(o.status in statuses for o in machine.orders)

    return check


class OrderRules:
    # --- model ------------------------------------------------------------------------------

    def _level_percents(self, levels: list[int]) -> dict:
        remaining = min(self.cap, self.HUNDRED)
        percents = {}
        for level in sorted(levels):
            percents[level] = min(self.level_percents[level], remaining)
            remaining -= percents[level]
        return percents

    def _claw_back_model(self, order: OrderM, line_pk: int) -> None:
        refunded = order.refunded(line_pk)
        for record in self.records.values():
            if record.line != line_pk or record.status == CS.CANCELLED:
                continue
            target = ceil_share(record.amount, refunded, order.lines[line_pk].paid)
            part = target - record.reversed
            if part <= ZERO:
                continue
            wallet = self.books.wallets[record.beneficiary]
            if record.status == CS.FROZEN:
                wallet.frozen -= part
                note("clawback while frozen")
            else:
                wallet.available -= part
                note("clawback after release")
            record.reversed = target
            if record.status == CS.FROZEN and record.reversed == record.amount:
                record.status = CS.CANCELLED

    def _refund_succeeded_model(self, order: OrderM, case: CaseM) -> None:
        before = order.refunded_total()
        case.status = RS.REFUNDED
        fee_share = floor_share(order.fee, before + case.amount, order.amount) - floor_share(
            order.fee, before, order.amount
        )
        self.books.provider += case.amount
        self.books.platform_fee -= fee_share
        if order.status == S.PAID or case.return_goods:
            for line_pk, (units, _amount) in case.lines.items():
                self.stock[order.lines[line_pk].sku] += units
        for line_pk in case.lines:
            self._claw_back_model(order, line_pk)
        if order.status == S.PAID and all(
            line.paid - order.holding(line.pk)[1] <= ZERO for line in order.lines.values()
        ):
            order.status = S.CANCELLED
            note("refunded in full before shipping")

    def _settle(self, order: OrderM) -> None:
        created = commission_settle_orders(order_id=order.pk)
        if order.status != S.COMPLETED or order.commission_status != Order.CommissionStatus.PENDING:
            assert created == 0, f"settling {order} again created {created}"
            return
        order.commission_status = Order.CommissionStatus.SETTLED
        beneficiaries = [(lv, pk) for lv, pk in enumerate(order.snapshot, start=1) if pk]
        percents = self._level_percents([level for level, _pk in beneficiaries])
        expected = 0
        for line in order.lines.values():
            for level, pk in beneficiaries:
                amount = percent_floor(line.paid, percents[level])
                if amount > ZERO:
                    self.records[(line.pk, pk, level)] = RecordM(
                        order=order,
                        line=line.pk,
                        beneficiary=pk,
                        level=level,
                        amount=amount,
                        base=line.paid,
                        rate=percents[level],
                    )
                    self.books.wallets[pk].frozen += amount
                    expected += 1
        assert created == expected, f"settling {order}: {created} records, expected {expected}"
        for line_pk in order.lines:
            if order.refunded(line_pk) > ZERO:
                note("settled after a refund")
                self._claw_back_model(order, line_pk)

    # --- payments -----------------------------------------------------------------------------

    def _notify_payment(self, order: OrderM, provider_trade_no: str) -> str:
        body = sandbox_notification_body(
            out_trade_no=order.out_trade_no,
            provider_trade_no=provider_trade_no,
            amount=order.amount,
            paid_at=PAID_AT,
        )
        return payment_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )

    def _deliver(self, order: OrderM) -> None:
        result = self._notify_payment(order, f"SBX{order.payment_pk:08d}")
        if order.status == S.PENDING_PAYMENT:
            expected = "paid"
            order.status = S.PAID
            order.fee = percent_floor(order.amount, self.fee)
            self.books.provider -= order.amount
            self.books.platform_fee += order.fee
        else:
            expected = "duplicate"
        assert result == expected, f"payment notification of {order}: {result}, not {expected}"

    def _start_payment(self, order: OrderM) -> None:
        payment = payment_start(
            merchant=self.merchant, customer=self.users[order.buyer], order_id=order.pk
        )
        assert order.payment_pk in (None, payment.pk), "a second payment for one order"
        assert payment.amount == order.amount
        order.payment_pk, order.out_trade_no = payment.pk, payment.out_trade_no

    # --- rules --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.orders) < self.MAX_ORDERS)
    @rule(
        buyer=st.integers(min_value=0, max_value=2),
        wanted=st.lists(
            st.tuples(st.integers(0, 1), st.integers(1, 4)),
            min_size=1,
            max_size=2,
            unique_by=lambda t: t[0],
        ),
    )
    def place(self, buyer, wanted):
        order = order_place(
            merchant=self.merchant,
            customer=self.users[buyer],
            lines=[(self.skus[sku].pk, quantity) for sku, quantity in wanted],
            recipient=RECIPIENT,
        )
        lines = {}
        for line in OrderLine.objects.filter(order=order).order_by("id"):
            sku = next(i for i, s in enumerate(self.skus) if s.pk == line.sku_id)
            assert line.paid_amount == self.prices[sku] * line.quantity
            lines[line.pk] = LineM(
                pk=line.pk, sku=sku, quantity=line.quantity, paid=line.paid_amount
            )
            self.stock[sku] -= line.quantity
        amount = sum((line.paid for line in lines.values()), ZERO)
        assert order.payable_amount == amount
        assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
            self.snapshots[buyer]
        )
        self.orders.append(
            OrderM(
                index=len(self.orders),
                pk=order.pk,
                buyer=buyer,
                amount=amount,
                snapshot=self.snapshots[buyer],
                lines=lines,
            )
        )

    @precondition(_orders_in(S.PENDING_PAYMENT))
    @rule(data=st.data())
    def pay(self, data):
        """1-3 unpaid orders paid, each notification delivered 1-3 times, all shuffled, with
        late duplicates of orders paid before mixed in."""
        unpaid = [o for o in self.orders if o.status == S.PENDING_PAYMENT]
        chosen = data.draw(st.sets(st.sampled_from(unpaid), min_size=1, max_size=3), label="orders")
        deliveries = []
        for order in sorted(chosen, key=lambda o: o.index):
            self._start_payment(order)
            deliveries += [order] * data.draw(st.integers(1, 3), label="times")
        paid = [o for o in self.orders if o.payment_pk and o.status != S.PENDING_PAYMENT]
        if paid:
            deliveries += data.draw(st.lists(st.sampled_from(paid), max_size=2), label="late")
        for order in data.draw(st.permutations(deliveries), label="delivery order"):
            self._deliver(order)

    @precondition(_orders_in(S.PENDING_PAYMENT, S.PAID, S.SHIPPED))
    @rule(data=st.data())
    def advance(self, data):
        """Every unfinished order one step along the happy path (pay with one notification,
        ship, complete and settle), so that examples reach release and withdrawal often; the
        other rules take the detours. ``skip`` leaves some where they are."""
        unfinished = [o for o in self.orders if o.status in (S.PENDING_PAYMENT, S.PAID, S.SHIPPED)]
        skip = data.draw(st.sets(st.sampled_from([o.index for o in unfinished])), label="skip")
        for order in unfinished:
            if order.index in skip:
                continue
            if order.status == S.PENDING_PAYMENT:
                self._start_payment(order)
                self._deliver(order)
            elif order.status == S.PAID:
                self._ship(order)
            else:
                self._complete(order, settle_runs=1)

    def _ship(self, order: OrderM) -> None:
        order_ship(
            merchant=self.merchant,
            order_id=order.pk,
            carrier="SF Express",
            tracking_number=f"SF{order.pk}",
            actor=None,
        )
        order.status = S.SHIPPED

    def _complete(self, order: OrderM, *, settle_runs: int) -> None:
        instance = order_get_for_merchant(merchant=self.merchant, order_id=order.pk)
        assert order_complete(order=instance) is True
        order.status = S.COMPLETED
        order.commission_status = (
            Order.CommissionStatus.PENDING if order.snapshot[0] else Order.CommissionStatus.NONE
        )
        for _ in range(settle_runs):
            self._settle(order)

    @precondition(_orders_in(S.PENDING_PAYMENT))
    @rule(data=st.data())
    def cancel(self, data):
        order = data.draw(
            st.sampled_from([o for o in self.orders if o.status == S.PENDING_PAYMENT])
        )
        instance = order_get_for_customer(
            merchant=self.merchant, customer=self.users[order.buyer], order_id=order.pk
        )
        assert order_cancel(order=instance, actor=self.users[order.buyer]) is True
        order.status = S.CANCELLED
        for line in order.lines.values():
            self.stock[line.sku] += line.quantity

    @precondition(_orders_in(S.PAID, S.SHIPPED, S.CANCELLED))
    @rule(data=st.data(), settle_runs=st.sampled_from([1, 2, 0]))
    def fulfil(self, data, settle_runs):
        """Ship a paid order, or complete a shipped one (then settle 0-2 times); a cancelled one
        is refused both."""
        order = data.draw(
            st.sampled_from(
                [o for o in self.orders if o.status in (S.PAID, S.SHIPPED, S.CANCELLED)]
            )
        )
        if order.status == S.CANCELLED:
            with pytest.raises(Conflict):
                order_ship(
                    merchant=self.merchant,
                    order_id=order.pk,
                    carrier="SF",
                    tracking_number="1",
                    actor=None,
                )
            return
        if order.status == S.PAID:
            self._ship(order)
        else:
            self._complete(order, settle_runs=settle_runs)

    @precondition(_orders_in(S.COMPLETED))
    @rule(data=st.data())
    def settle(self, data):
        """The settlement task (or beat's sweeper) for a completed order, once more."""
        self._settle(
            data.draw(st.sampled_from([o for o in self.orders if o.status == S.COMPLETED]))
        )
