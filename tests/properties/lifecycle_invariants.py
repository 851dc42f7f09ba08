"""What the lifecycle machine checks after every step, against the database."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis.stateful import invariant

from apps.commissions.models import CommissionRecord
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, Wallet
from apps.orders.models import Order
from apps.payments.models import PaymentSplit, SandboxPayout
from apps.products.models import Sku
from apps.refunds.models import RefundCase
from apps.withdrawals.models import Withdrawal

from .lifecycle_model import CS, ZERO, S

A = LedgerEntry.Account
DISTRIBUTOR_ACCOUNTS = (A.FROZEN, A.AVAILABLE, A.WITHDRAWING, A.WITHDRAWN)


class LifecycleInvariants:
    @invariant()
    def ledger_balances(self):
        if self.merchant is None:
            return
        assert ledger_breaches(merchant_id=self.merchant.pk) == []

    @invariant()
    def balances_equal_entries_and_model(self):
        if self.merchant is None:
            return
        entries: dict[tuple[int | None, str], Decimal] = defaultdict(lambda: ZERO)
        for distributor_id, account, amount in LedgerEntry.objects.filter(
            merchant=self.merchant
        ).values_list("distributor_id", "account", "amount"):
            entries[(distributor_id, account)] += amount
        wallets = {
            row[0]: row[1:]
            for row in Wallet.objects.filter(merchant=self.merchant).values_list(
                "distributor_id", "frozen", "available", "withdrawing", "withdrawn"
            )
        }
        for distributor in self.chain:
            wallet = wallets.get(distributor.pk, (ZERO,) * 4)
            from_entries = tuple(
                entries[(distributor.pk, account)] for account in DISTRIBUTOR_ACCOUNTS
            )
            assert wallet == from_entries, (
                f"wallet {distributor.pk} {wallet} != entries {from_entries}"
            )
            model = self.books.wallets[distributor.pk]
            assert wallet == model.as_tuple(), (
                f"wallet {distributor.pk} (frozen, available, withdrawing, withdrawn) {wallet} "
                f"!= model {model.as_tuple()}"
            )
            assert model.withdrawn == (
                self.books.split_out[distributor.pk] + self.books.withdrawn_net[distributor.pk]
            )
        assert (entries[(None, A.PROVIDER)], entries[(None, A.PLATFORM_FEE)]) == (
            self.books.provider,
            self.books.platform_fee,
        ), "provider / platform fee accounts differ from the model"
        assert entries[(None, A.TAX_WITHHELD)] == self.books.tax_withheld

    @invariant()
    def commission_per_line_beneficiary_level(self):
        if self.merchant is None:
            return
        rows = list(
            CommissionRecord.objects.filter(merchant=self.merchant).values_list(
                "order_line_id",
                "beneficiary_id",
                "level",
                "amount",
                "base_amount",
                "rate_percent",
                "reversed_amount",
                "status",
                "order__status",
            )
        )
        assert all(1 <= level <= 3 for _l, _b, level, *_rest in rows), "a level above 3 was paid"
        assert not any(order_status == S.CANCELLED for *_rest, order_status in rows), (
            "commission on a cancelled order"
        )
        actual = {(line, who, level): tuple(rest[:-1]) for line, who, level, *rest in rows}
        assert len(actual) == len(rows), "two records for one (line, beneficiary, level)"
        expected = {
            key: (r.amount, r.base, r.rate, r.reversed, r.status) for key, r in self.records.items()
        }
        assert actual == expected, f"records {actual} != model {expected}"
        for (line, _who, _level), (amount, _b, _r, reversed_amount, status) in actual.items():
            assert ZERO <= reversed_amount <= amount
            record = self.records[(line, _who, _level)]
            order_line = record.order.lines[line]
            if record.order.refunded(line) == order_line.paid:  # fully refunded line
                assert amount - reversed_amount == ZERO, "commission left on a refunded line"
                assert status != CS.FROZEN, "a fully reversed frozen record is not cancelled"

    @invariant()
    def orders_cases_withdrawals_splits(self):
        if self.merchant is None:
            return
        statuses = dict(Order.objects.filter(merchant=self.merchant).values_list("pk", "status"))
        assert statuses == {o.pk: o.status for o in self.orders}
        cases = {
            pk: (status, amount)
            for pk, status, amount in RefundCase.objects.filter(merchant=self.merchant).values_list(
                "pk", "status", "amount"
            )
        }
        assert cases == {c.pk: (c.status, c.amount) for o in self.orders for c in o.cases}
        for order in self.orders:
            assert order.refunded_total() <= order.amount
            for line_pk, line in order.lines.items():
                assert order.holding(line_pk)[1] <= line.paid
        withdrawals = dict(
            Withdrawal.objects.filter(merchant=self.merchant).values_list("pk", "status")
        )
        assert withdrawals == {w.pk: w.status for w in self.withdrawals}
        payouts = sorted(
            SandboxPayout.objects.filter(
                idempotency_key__in=Withdrawal.objects.filter(merchant=self.merchant).values(
                    "idempotency_key"
                )
            ).values_list("amount", "succeeded")
        )
        assert payouts == sorted(
            (w.net, w.status == "paid") for w in self.withdrawals if w.status in ("paid", "failed")
        ), "a payout missing, or paid twice"
        splits: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for order_id, distributor_id, amount, status in PaymentSplit.objects.filter(
            merchant=self.merchant, receiver=PaymentSplit.Receiver.DISTRIBUTOR
        ).values_list("payment__order_id", "distributor_id", "amount", "status"):
            assert status == PaymentSplit.Status.DONE
            splits[order_id][distributor_id] = amount
        assert dict(splits) == {
            o.pk: {k: v for k, v in o.splits.items() if v > ZERO}
            for o in self.orders
            if any(o.splits.values())
        }
        stock = dict(Sku.objects.filter(merchant=self.merchant).values_list("pk", "stock"))
        assert [stock[sku.pk] for sku in self.skus] == self.stock
