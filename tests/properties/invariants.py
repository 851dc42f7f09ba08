"""The money rules the machine checks after every step, against the database."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from hypothesis.stateful import (
    invariant,
)

from apps.commissions.models import CommissionRecord
from apps.core.money import ZERO, percent_of
from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.tree import trees_check
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, Wallet
from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.orders.services import (
    ORDER_TRANSITIONS,
)
from apps.payments.models import Payment
from apps.products.models import Sku

from .model import PAID_ONWARD, S


class MoneyInvariants:
    """Mixed into the machine; Hypothesis collects the invariants from its bases."""

    @invariant()
    def orders_and_history(self):
        if self.merchant is None:
            return
        rows = {
            pk: (status, commission_status, snapshot)
            for pk, status, commission_status, *snapshot in Order.objects.filter(
                merchant=self.merchant
            ).values_list(
                "pk",
                "status",
                "commission_status",
                "distributor_id",
                "level2_distributor_id",
                "level3_distributor_id",
            )
        }
        assert sorted(rows) == sorted(o.pk for o in self.orders), "orders appeared or vanished"
        history: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for order_id, old, new in (
            OrderStatusChange.objects.filter(merchant=self.merchant)
            .order_by("id")
            .values_list("order_id", "from_status", "to_status")
        ):
            history[order_id].append((old, new))
        for order in self.orders:
            status, commission_status, snapshot = rows[order.pk]
            assert (status, commission_status) == (order.status, order.commission_status), (
                f"{order}: database has {status}/{commission_status}, "
                f"expected {order.status}/{order.commission_status}"
            )
            assert tuple(snapshot) == order.snapshot, f"{order}: the upline snapshot changed"
            steps = history[order.pk]
            assert len(steps) == order.transitions, f"{order}: history {steps}"
            assert steps[0] == ("", S.PENDING_PAYMENT), f"{order}: history {steps}"
            for (_old, previous), (old, new) in zip(steps, steps[1:], strict=False):
                assert old == previous and new in ORDER_TRANSITIONS[old], f"{order}: {steps}"
            assert steps[-1][1] == status, f"{order}: history {steps} ends elsewhere"

    @invariant()
    def stock_is_conserved(self):
        if self.merchant is None:
            return
        stock = dict(Sku.objects.filter(merchant=self.merchant).values_list("pk", "stock"))
        in_orders: Counter[int] = Counter()
        for sku_id, quantity in (
            OrderLine.objects.filter(merchant=self.merchant)
            .exclude(order__status=S.CANCELLED)
            .values_list("sku_id", "quantity")
        ):
            in_orders[sku_id] += quantity
        for index, sku in enumerate(self.skus):
            assert stock[sku.pk] >= 0
            assert stock[sku.pk] + in_orders[sku.pk] == self.initial_stock[index], (
                f"SKU {index}: stock {stock[sku.pk]} + {in_orders[sku.pk]} ordered "
                f"!= {self.initial_stock[index]}"
            )
            assert stock[sku.pk] == self.stock[index]

    @invariant()
    def payments_match_orders(self):
        if self.merchant is None:
            return
        payments = list(
            Payment.objects.filter(merchant=self.merchant).values_list(
                "pk",
                "order_id",
                "status",
                "amount",
                "platform_fee",
                "merchant_net",
                "order__status",
            )
        )
        succeeded: Counter[int] = Counter()
        for _pk, order_id, status, amount, fee, net, _order_status in payments:
            if status == Payment.Status.SUCCEEDED:
                succeeded[order_id] += 1
                expected_fee = percent_of(amount, self.fee)
                assert (fee, net) == (expected_fee, amount - expected_fee), "wrong payment split"
        model = {p.pk: p for o in self.orders for p in o.payments}
        assert sorted(model) == sorted(pk for pk, *_rest in payments)
        for pk, _order_id, status, amount, *_rest in payments:
            assert (status, amount) == (model[pk].status, model[pk].amount), (
                f"payment of {model[pk].order}: {status}, expected {model[pk].status}"
            )
        for order in self.orders:
            assert succeeded[order.pk] == (1 if order.status in PAID_ONWARD else 0), (
                f"{order} has {succeeded[order.pk]} succeeded payments"
            )

    @invariant()
    def commissions_follow_the_rules(self):
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
                "status",
                "release_at",
                "order_id",
                "order__status",
                "order__customer_id",
                "beneficiary__user_id",
                "order_line__paid_amount",
                "order_line__order_id",
            )
        )
        keys = [(line, beneficiary, level) for line, beneficiary, level, *_rest in rows]
        assert len(keys) == len(set(keys)), "two records for one (line, beneficiary, level)"
        for (
            _line,
            _beneficiary,
            level,
            amount,
            base,
            rate,
            _status,
            _release_at,
            order_id,
            order_status,
            customer_id,
            beneficiary_user_id,
            line_paid,
            line_order_id,
        ) in rows:
            assert 1 <= level <= 3
            assert amount == percent_of(base, rate) and ZERO <= amount <= base
            assert base == line_paid and line_order_id == order_id
            assert order_status == S.COMPLETED, "commission on an order that is not completed"
            assert beneficiary_user_id != customer_id, "a buyer earned on their own purchase"
        actual = {
            (line, beneficiary, level): (amount, base, rate, status, release_at)
            for line, beneficiary, level, amount, base, rate, status, release_at, *_ in rows
        }
        expected = {
            key: (r.amount, r.base, r.rate, r.status, r.release_at)
            for key, r in self.records.items()
        }
        assert actual == expected, f"commission records {actual} != expected {expected}"

    @invariant()
    def wallets_equal_ledgers(self):
        if self.merchant is None:
            return
        ledger: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        assert ledger_breaches(merchant_id=self.merchant.pk) == []
        for distributor_id, account, amount in LedgerEntry.objects.filter(
            merchant=self.merchant, distributor__isnull=False
        ).values_list("distributor_id", "account", "amount"):
            ledger[(distributor_id, account)] += amount
        wallets = {
            distributor_id: (frozen, available, withdrawn)
            for distributor_id, frozen, available, withdrawn in Wallet.objects.filter(
                merchant=self.merchant
            ).values_list("distributor_id", "frozen", "available", "withdrawn")
        }
        assert {d for d, _account in ledger} <= set(wallets), "ledger entries without a wallet"
        expected: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for (_line, beneficiary, _level), record in self.records.items():
            slot = 0 if record.status == CommissionRecord.Status.FROZEN else 1
            expected[beneficiary][slot] += record.amount
        for distributor_id, (frozen, available, withdrawn) in wallets.items():
            for account, balance in (
                (LedgerEntry.Account.FROZEN, frozen),
                (LedgerEntry.Account.AVAILABLE, available),
                (LedgerEntry.Account.WITHDRAWN, withdrawn),
            ):
                assert balance == ledger[(distributor_id, account)], (
                    f"wallet of distributor {distributor_id}: {account} {balance} "
                    f"!= ledger {ledger[(distributor_id, account)]}"
                )
            assert [frozen, available] == expected[distributor_id], (
                f"distributor {distributor_id}: frozen/available {frozen}/{available}, "
                f"expected {expected[distributor_id]}"
            )
            assert withdrawn == ZERO

    @invariant()
    def tree_and_bindings_match(self):
        if self.merchant is None:
            return
        nodes = {
            pk: (user_id, parent_id, tree_id, lft, rght)
            for pk, user_id, parent_id, tree_id, lft, rght in Distributor.objects.filter(
                merchant=self.merchant
            ).values_list("pk", "user_id", "parent_id", "tree_id", "lft", "rght")
        }
        assert sorted(nodes) == sorted(self.distributors.values())
        for user, pk in self.distributors.items():
            user_id, parent_id, tree_id, lft, rght = nodes[pk]
            assert user_id == self.users[user].pk
            parent = self.parent[user]
            assert parent_id == (self.distributors[parent] if parent is not None else None), (
                f"distributor of user {user}: parent {parent_id}, expected user {parent}"
            )
            size = len(self._descendants(user))
            inside = sum(
                1
                for _u, _p, other_tree, other_lft, _r in nodes.values()
                if other_tree == tree_id and lft < other_lft < rght
            )
            assert inside == size, f"the interval of user {user} holds {inside}, not {size}"
            if parent_id is not None:
                _u, _p, parent_tree, parent_lft, parent_rght = nodes[parent_id]
                assert parent_tree == tree_id and parent_lft < lft < rght < parent_rght
        assert trees_check(merchant=self.merchant) == {}
        bindings = dict(
            CustomerBinding.objects.filter(merchant=self.merchant).values_list(
                "customer_id", "distributor_id"
            )
        )
        assert bindings == {
            self.users[customer].pk: self.distributors[target]
            for customer, target in self.bindings.items()
        }
