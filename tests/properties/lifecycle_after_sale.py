"""Lifecycle machine rules after payment: refund requests and decisions (the provider's signed
notification delivered 1-3 times, shuffled with other notifications), commission release on an
advancing clock, the payment split task, and withdrawals requested, reviewed and paid out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from apps.commissions.payment_splits import payment_split_order
from apps.commissions.services import commissions_release_due
from apps.core.errors import Conflict, DomainError
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_refund_no,
    sandbox_refund_notification_body,
    sandbox_sign,
)
from apps.refunds.models import RefundCase
from apps.refunds.services import (
    RefundLineRequest,
    refund_approve,
    refund_cancel,
    refund_handle_notification,
    refund_reject,
    refund_request,
)
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
    withdrawal_resume,
)

from .lifecycle_model import (
    CS,
    RS,
    ZERO,
    CaseM,
    OrderM,
    S,
    WithdrawalM,
    floor_share,
    note,
    percent_floor,
)

K = RefundCase.Kind
REFUNDABLE = (S.PAID, S.SHIPPED, S.COMPLETED)


class AfterSaleRules:
    # --- refunds ------------------------------------------------------------------------------

    def _expected_case_lines(
        self, order: OrderM, kind: str, line_pk: int, units: int, amount: Decimal
    ):
        """(lines, error code) the model expects ``refund_request`` to make of a request."""
        remaining = {
            pk: (line.quantity - order.holding(pk)[0], line.paid - order.holding(pk)[1])
            for pk, line in order.lines.items()
        }
        if kind == K.ORDER:
            chosen = {pk: rest for pk, rest in remaining.items() if rest[1] > ZERO}
            return (chosen, None) if chosen else ({}, "nothing_refundable")
        left_units, left_amount = remaining[line_pk]
        if left_amount <= ZERO:
            return {}, "nothing_refundable"
        if kind == K.LINE:
            return {line_pk: (left_units, left_amount)}, None
        if kind == K.QUANTITY:
            if units > left_units:
                return {}, "quantity_exceeds_refundable"
            line = order.lines[line_pk]
            if units == left_units:
                value = left_amount
            else:
                held = order.holding(line_pk)[0]
                value = min(
                    left_amount,
                    floor_share(line.paid, held + units, line.quantity)
                    - floor_share(line.paid, held, line.quantity),
                )
            return ({line_pk: (units, value)}, None) if value > ZERO else ({}, "nothing_refundable")
        if amount > left_amount:
            return {}, "amount_exceeds_refundable"
        return {line_pk: (0, amount)}, None

    @precondition(lambda self: any(o.status in REFUNDABLE for o in self.orders))
    @rule(
        data=st.data(),
        kind=st.sampled_from([K.ORDER, K.LINE, K.QUANTITY, K.AMOUNT]),
        units=st.integers(1, 4),
        share=st.sampled_from(["cent", "half", "all", "too much"]),
        return_goods=st.booleans(),
    )
    def request_refund(self, data, kind, units, share, return_goods):
        order = data.draw(st.sampled_from([o for o in self.orders if o.status in REFUNDABLE]))
        # A position, not an id: a failing example reads the same on any database.
        line_pk = sorted(order.lines)[data.draw(st.integers(0, len(order.lines) - 1), label="line")]
        line = order.lines[line_pk]
        left = line.paid - order.holding(line_pk)[1]
        amount = {
            "cent": Decimal("0.01"),
            "half": max((left / 2).quantize(Decimal("0.01")), Decimal("0.01")),
            "all": max(left, Decimal("0.01")),
            "too much": left + Decimal("0.01"),
        }[share]
        lines, error = self._expected_case_lines(order, kind, line_pk, units, amount)
        call = {
            "merchant": self.merchant,
            "customer": self.users[order.buyer],
            "order_id": order.pk,
            "kind": kind,
            "reason": "not as described",
            "return_goods": return_goods,
            "lines": []
            if kind == K.ORDER
            else [
                RefundLineRequest(
                    order_line_id=line_pk,
                    quantity=units if kind == K.QUANTITY else None,
                    amount=amount if kind == K.AMOUNT else None,
                )
            ],
        }
        if error:
            with pytest.raises(Conflict) as caught:
                refund_request(**call)
            assert caught.value.code == error
            note(f"refund refused: {error}")
            return
        case = refund_request(**call)
        total = sum((value for _units, value in lines.values()), ZERO)
        assert case.amount == total, f"refund of {order}: {case.amount}, expected {total}"
        order.cases.append(
            CaseM(
                pk=case.pk,
                key=case.idempotency_key,
                kind=kind,
                amount=total,
                lines=lines,
                return_goods=return_goods and kind != K.AMOUNT,
            )
        )
        note(f"refund requested: {kind} ({order.status})")

    def _notify_refund(self, order: OrderM, case: CaseM, *, succeeded: bool) -> None:
        body = sandbox_refund_notification_body(
            out_refund_no=case.key,
            provider_refund_no=sandbox_refund_no(case.key),
            amount=case.amount,
            succeeded=succeeded,
        )
        result = refund_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )
        if case.status != RS.REFUNDING:
            expected = "duplicate"
        elif succeeded:
            expected = "refunded"
            self._refund_succeeded_model(order, case)
        else:
            expected = "failed"
            case.status = RS.FAILED
            note("refund provider refused")
        assert result == expected, f"refund notification: {result}, expected {expected}"

    def _requested_cases(self):
        return [(o, c) for o in self.orders for c in o.cases if c.status == RS.REQUESTED]

    @precondition(lambda self: self._requested_cases())
    @rule(data=st.data())
    def decide_refunds(self, data):
        """The merchant approves (the provider then refunds, or refuses), rejects, or the
        customer withdraws 1-2 requests; refund notifications arrive 1-3 times each, shuffled
        with a late duplicate of a payment notification."""
        chosen = data.draw(
            st.lists(
                st.sampled_from(self._requested_cases()),
                min_size=1,
                max_size=2,
                unique_by=lambda oc: oc[1].pk,
            ),
            label="cases",
        )
        deliveries: list = []
        for order, case in chosen:
            decision = data.draw(
                st.sampled_from(["approve", "approve", "refused", "reject", "withdraw"]),
                label="decision",
            )
            if decision == "reject":
                refund_reject(merchant=self.merchant, case_id=case.pk, actor=None, reason="used")
                case.status = RS.REJECTED
                continue
            if decision == "withdraw":
                refund_cancel(
                    merchant=self.merchant, customer=self.users[order.buyer], case_id=case.pk
                )
                case.status = RS.CANCELLED
                continue
            assert (
                refund_approve(merchant=self.merchant, case_id=case.pk, actor=None).status
                == RS.REFUNDING
            )
            case.status = RS.REFUNDING
            times = data.draw(st.integers(1, 3), label="times")
            deliveries += [("refund", order, case, decision == "approve")] * times
        if deliveries:
            paid = [o for o in self.orders if o.payment_pk and o.status != S.PENDING_PAYMENT]
            deliveries += [("payment", order, None, True) for order in paid[:1]]
        for kind, order, case, succeeded in data.draw(st.permutations(deliveries), label="order"):
            if kind == "payment":
                self._deliver(order)
            else:
                self._notify_refund(order, case, succeeded=succeeded)

    # --- release and split --------------------------------------------------------------------

    def _now(self):
        return timezone.now() + timedelta(days=self.clock_days, minutes=30)

    @precondition(lambda self: any(r.status == CS.FROZEN for r in self.records.values()))
    @rule(days=st.sampled_from([3, 1, 0]))
    def release(self, days):
        """Advance the clock ``days`` and run beat's release of due commission."""
        self.clock_days += days
        released = commissions_release_due(now=self._now())
        due = [
            r
            for r in self.records.values()
            if r.status == CS.FROZEN
            and self.clock_days >= self.freeze_days
            and not r.order.open_case_on(r.line)
        ]
        for record in due:
            record.status = CS.RELEASED
            wallet = self.books.wallets[record.beneficiary]
            wallet.frozen -= record.amount - record.reversed
            wallet.available += record.amount - record.reversed
        if any(
            r.status == CS.FROZEN and self.clock_days >= self.freeze_days
            for r in self.records.values()
        ):
            note("release held by an open refund case")
        assert released == len(due), f"released {released}, expected {len(due)}"
        note("released" if due else "released none")

    def _split_model(self, order: OrderM) -> int:
        if order.split_planned or order.payment_pk is None or order.status != S.COMPLETED:
            return 0
        records = [r for r in self.records.values() if r.order is order]
        if order.commission_status == "pending" or self.clock_days < self.freeze_days:
            return 0
        if any(r.status not in (CS.RELEASED, CS.CANCELLED) for r in records):
            return 0
        if any(c.status in RefundCase.OPEN_STATUSES for c in order.cases):
            return 0  # an open refund case holds the split back
        order.split_planned = True
        kept = order.amount - order.refunded_total()
        remaining = percent_floor(kept, self.split_percent)
        shares = []
        # The platform keeps its fee less what the refunds gave back of it (the ledger's
        # platform_fee legs), so a refunded order leaves more of the 30 % for commission.
        fee_kept = order.fee - floor_share(order.fee, order.refunded_total(), order.amount)
        platform = min(max(ZERO, fee_kept), kept, remaining)
        remaining -= platform
        shares.append(platform)
        dues: dict[tuple[int, int], Decimal] = {}
        for r in records:
            if r.status == CS.RELEASED:
                key = (r.level, r.beneficiary)
                dues[key] = dues.get(key, ZERO) + max(ZERO, r.amount - r.reversed)
        for (_level, who), due in sorted(dues.items()):
            wallet = self.books.wallets[who]
            amount = min(max(ZERO, min(due, wallet.available)), remaining)
            remaining -= amount
            shares.append(amount)
            wallet.available -= amount
            wallet.withdrawn += amount
            self.books.split_out[who] += amount
            order.splits[who] = amount
        shares.append(kept - sum(shares, ZERO))
        note(f"split planned ({'with' if any(order.splits.values()) else 'without'} commission)")
        return sum(1 for share in shares if share > ZERO)

    @precondition(lambda self: any(o.status == S.COMPLETED for o in self.orders))
    @rule(data=st.data())
    def split(self, data):
        """The split task (分账) for a completed order, at the machine's clock."""
        order = data.draw(st.sampled_from([o for o in self.orders if o.status == S.COMPLETED]))
        expected = self._split_model(order)
        sent = payment_split_order(order_id=order.pk, now=self._now())
        assert sent == expected, f"split of {order}: sent {sent}, expected {expected}"

    # --- withdrawals --------------------------------------------------------------------------

    @precondition(lambda self: any(w.available > ZERO for w in self.books.wallets.values()))
    @rule(
        who=st.integers(0, 3),
        share=st.sampled_from(["all", "half", "too much", "minimum", "below minimum"]),
        fails=st.booleans(),
    )
    def request_withdrawal(self, who, share, fails):
        distributor = self.chain[who]
        available = self.books.wallets[distributor.pk].available
        amount = {
            "all": available,
            "half": (available / 2).quantize(Decimal("0.01")),
            "too much": max(available, ZERO) + Decimal("0.01"),
            "minimum": self.minimum,
            "below minimum": self.minimum - Decimal("0.01"),
        }[share]
        if amount <= ZERO:
            return
        account = "fail-acct" if fails else "alipay:13800000000"
        if amount < self.minimum or amount > available:
            code = "below_minimum" if amount < self.minimum else "insufficient_balance"
            with pytest.raises(DomainError) as caught:
                withdrawal_request(
                    merchant=self.merchant, distributor=distributor, amount=amount, account=account
                )
            assert caught.value.code == code
            note(f"withdrawal refused: {code}")
            return
        withdrawal = withdrawal_request(
            merchant=self.merchant, distributor=distributor, amount=amount, account=account
        )
        fee = percent_floor(max(amount - self.band, ZERO), self.withdrawal_fee)
        tax = percent_floor(max(amount - self.threshold, ZERO), self.tax)
        assert (withdrawal.amount, withdrawal.fee, withdrawal.tax, withdrawal.net) == (
            amount,
            fee,
            tax,
            amount - fee - tax,
        )
        wallet = self.books.wallets[distributor.pk]
        wallet.available -= amount
        wallet.withdrawing += amount
        self.withdrawals.append(
            WithdrawalM(withdrawal.pk, distributor.pk, amount, fee, tax, amount - fee - tax, fails)
        )
        note("withdrawal requested")

    @precondition(lambda self: any(w.status in ("requested", "approved") for w in self.withdrawals))
    @rule(
        data=st.data(),
        decision=st.sampled_from(["approve", "approve later", "reject", "pay again"]),
    )
    def review_withdrawal(self, data, decision):
        """Approve and pay out (succeeds, or the sandbox refuses a "fail…" account), approve
        only (the payout runs later), reject, or pay again / resume one paid already."""
        withdrawal = data.draw(
            st.sampled_from([w for w in self.withdrawals if w.status in ("requested", "approved")])
        )
        wallet = self.books.wallets[withdrawal.distributor]
        if withdrawal.status == "requested" and decision == "reject":
            withdrawal_reject(
                merchant=self.merchant,
                withdrawal_id=withdrawal.pk,
                actor=None,
                reason="check the account",
            )
            withdrawal.status = "rejected"
            note("withdrawal rejected")
            wallet.withdrawing -= withdrawal.amount
            wallet.available += withdrawal.amount
            return
        if withdrawal.status == "requested":
            withdrawal_approve(merchant=self.merchant, withdrawal_id=withdrawal.pk, actor=None)
            withdrawal.status = "approved"
            if decision == "approve later":
                return
        result = withdrawal_pay(withdrawal_id=withdrawal.pk)
        withdrawal.status = "failed" if withdrawal.fails else "paid"
        assert result == withdrawal.status
        wallet.withdrawing -= withdrawal.amount
        if withdrawal.fails:
            wallet.available += withdrawal.amount
            note("payout failed")
        else:
            wallet.withdrawn += withdrawal.net
            self.books.withdrawn_net[withdrawal.distributor] += withdrawal.net
            self.books.tax_withheld += withdrawal.tax
            note("payout paid")
        if decision == "pay again":
            again = (
                withdrawal_resume if data.draw(st.booleans(), label="resume") else withdrawal_pay
            )
            assert again(withdrawal_id=withdrawal.pk) == withdrawal.status
