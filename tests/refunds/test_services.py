from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from apps.commissions.models import CommissionRecord, CommissionReversal
from apps.commissions.services import (
    commission_release,
    commission_settle_orders,
    commissions_release_due,
)
from apps.core.errors import Conflict, DomainError, NotFound
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.ledger.posting import Leg, ledger_post
from apps.orders.models import Order
from apps.orders.services import order_cancel, order_complete
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from apps.refunds.models import RefundCase, RefundStatusChange
from apps.refunds.services import (
    RefundLineRequest,
    payment_refund_unclaimed,
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)
from tests.services.flows import bind, paid_order, place, shipped_order, signed_notification

from .conftest import notify

D = Decimal
K = RefundCase.Kind
S = RefundCase.Status
pytestmark = pytest.mark.django_db


def line_of(order, sku):
    return order.lines.get(sku=sku)


def request(order, kind, lines=None, **kwargs):
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=kind,
        reason=kwargs.pop("reason", "broken"),
        lines=lines,
        **kwargs,
    )


def approve(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return refund_approve(merchant=case.merchant, case_id=case.pk, actor=None)


def refund(order, kind, capture, lines=None, **kwargs):
    case = approve(request(order, kind, lines, **kwargs), capture)
    assert notify(case) == "refunded"
    case.refresh_from_db()
    return case


def amounts(order, sku):
    return sorted(
        CommissionRecord.objects.filter(order_line__order=order, order_line__sku=sku).values_list(
            "level", "amount", "reversed_amount", "status"
        )
    )


def balances(distributor):
    wallet = Wallet.objects.get(distributor=distributor)
    return wallet.frozen, wallet.available


# --- requesting ---------------------------------------------------------------------------------


def test_whole_order_request_holds_every_line(settled, skus):
    case = request(settled, K.ORDER, return_goods=True)

    assert (case.status, case.goods_amount, case.shipping_amount, case.amount) == (
        S.REQUESTED,
        D("63.36"),
        D("0.00"),
        D("63.36"),
    )
    assert sorted(case.lines.values_list("quantity", "amount")) == [
        (1, D("33.33")),
        (3, D("30.03")),
    ]
    assert list(
        RefundStatusChange.objects.filter(case=case).values_list("from_status", "to_status")
    ) == [("", S.REQUESTED)]
    with pytest.raises(Conflict) as refused:
        request(settled, K.ORDER)
    assert refused.value.code == "nothing_refundable"


def test_quantity_and_amount_are_bounded_by_what_is_left(settled, skus):
    second = line_of(settled, skus[1])
    first = request(settled, K.QUANTITY, [RefundLineRequest(second.pk, quantity=2)])
    assert list(first.lines.values_list("quantity", "amount")) == [(2, D("20.02"))]
    with pytest.raises(Conflict) as too_many:
        request(settled, K.QUANTITY, [RefundLineRequest(second.pk, quantity=2)])
    assert too_many.value.code == "quantity_exceeds_refundable"
    with pytest.raises(Conflict) as too_much:
        request(settled, K.AMOUNT, [RefundLineRequest(second.pk, amount="10.02")])
    assert too_much.value.code == "amount_exceeds_refundable"
    last = request(settled, K.AMOUNT, [RefundLineRequest(second.pk, amount="10.01")])
    assert list(last.lines.values_list("quantity", "amount")) == [(0, D("10.01"))]
    # a rejected case gives its part back to what may be asked
    refund_reject(merchant=settled.merchant, case_id=first.pk, actor=None, reason="not damaged")
    again = request(settled, K.QUANTITY, [RefundLineRequest(second.pk, quantity=1)])
    assert again.amount == D("10.01")  # one of three units, the amount case held apart
    with pytest.raises(Conflict) as nothing_left:
        request(settled, K.AMOUNT, [RefundLineRequest(second.pk, amount="10.02")])
    assert nothing_left.value.code == "amount_exceeds_refundable"


def test_bad_requests_write_nothing(settled, skus, other_merchant):
    second = line_of(settled, skus[1])
    for kind, lines, code in [
        (K.AMOUNT, [RefundLineRequest(second.pk, amount="1.001")], "invalid_amount"),
        (K.AMOUNT, [RefundLineRequest(second.pk, amount="-1")], "invalid_amount"),
        (K.QUANTITY, [RefundLineRequest(second.pk, quantity=0)], "invalid_quantity"),
        (K.LINE, [], "line_required"),
        ("everything", [], "invalid_kind"),
    ]:
        with pytest.raises(DomainError) as refused:
            request(settled, kind, lines)
        assert refused.value.code == code
    with pytest.raises(DomainError) as no_reason:
        request(settled, K.ORDER, reason="  ")
    assert no_reason.value.code == "reason_required"
    with pytest.raises(NotFound):
        request(settled, K.LINE, [RefundLineRequest(999_999)])
    assert RefundCase.objects.count() == 0


def test_unpaid_order_cannot_be_refunded(merchant, customer, skus):
    order = place(merchant=merchant, customer=customer, lines=[(skus[0], 1)])
    with pytest.raises(Conflict) as refused:
        request(order, K.ORDER)
    assert refused.value.code == "not_refundable"


def test_customer_withdraws_a_request(settled):
    case = request(settled, K.ORDER)
    refund_cancel(merchant=settled.merchant, customer=settled.customer, case_id=case.pk)
    case.refresh_from_db()
    assert case.status == S.CANCELLED
    with pytest.raises(Conflict):
        refund_cancel(merchant=settled.merchant, customer=settled.customer, case_id=case.pk)


# --- approval, provider, notification -------------------------------------------------------------


def test_approval_refunds_through_the_provider_once(
    settled, refund_deliveries, django_capture_on_commit_callbacks
):
    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)

    assert case.status == S.REFUNDING
    assert case.provider_refund_no.startswith("SBXR")
    assert refund_deliveries == [(case.idempotency_key, case.provider_refund_no, "63.36")]
    with pytest.raises(Conflict):
        approve(case, django_capture_on_commit_callbacks)
    assert len(refund_deliveries) == 1


def test_duplicate_notification_refunds_once(settled, chain, django_capture_on_commit_callbacks):
    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)
    assert notify(case) == "refunded"
    wallet_after_first = balances(chain[3])

    assert [notify(case) for _ in range(3)] == ["duplicate"] * 3

    case.refresh_from_db()
    assert case.status == S.REFUNDED
    assert CommissionReversal.objects.count() == 6
    assert balances(chain[3]) == wallet_after_first == (D("0.00"), D("0.00"))
    assert RefundStatusChange.objects.filter(case=case, to_status=S.REFUNDED).count() == 1


def test_forged_or_wrong_amount_notifications_change_nothing(
    settled, django_capture_on_commit_callbacks
):
    from apps.refunds.services import refund_handle_notification

    from .conftest import refund_notification

    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)
    body, headers = refund_notification(case)
    with pytest.raises(DomainError) as forged:
        refund_handle_notification(
            provider="sandbox", body=body, headers={"X-Sandbox-Signature": "0" * 64}
        )
    assert forged.value.code == "invalid_notification"
    body, headers = refund_notification(case, amount=D("1.00"))
    with pytest.raises(DomainError) as mismatch:
        refund_handle_notification(provider="sandbox", body=body, headers=headers)
    assert mismatch.value.code == "amount_mismatch"
    case.refresh_from_db()
    assert case.status == S.REFUNDING


def test_failed_refund_frees_the_amount(settled, django_capture_on_commit_callbacks):
    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)
    assert notify(case, succeeded=False) == "failed"
    case.refresh_from_db()
    assert case.status == S.FAILED
    assert CommissionReversal.objects.count() == 0
    assert request(settled, K.ORDER).amount == D("63.36")


def test_reject_needs_a_reason_and_is_final(settled):
    case = request(settled, K.ORDER)
    with pytest.raises(DomainError):
        refund_reject(merchant=settled.merchant, case_id=case.pk, actor=None, reason="")
    refund_reject(merchant=settled.merchant, case_id=case.pk, actor=None, reason="used")
    case.refresh_from_db()
    assert (case.status, case.merchant_reason) == (S.REJECTED, "used")


def test_another_merchant_cannot_decide(settled, other_merchant):
    case = request(settled, K.ORDER)
    with pytest.raises(NotFound):
        refund_approve(merchant=other_merchant, case_id=case.pk, actor=None)
    with pytest.raises(NotFound):
        refund_reject(merchant=other_merchant, case_id=case.pk, actor=None, reason="x")


# --- stock -------------------------------------------------------------------------------------


def test_unshipped_order_refunded_in_full_returns_stock_once_and_is_cancelled(
    merchant, customer, skus, refund_deliveries, django_capture_on_commit_callbacks
):
    order = paid_order(merchant=merchant, customer=customer, lines=[(skus[0], 2), (skus[1], 1)])
    assert [Sku.objects.get(pk=s.pk).stock for s in skus] == [8, 9]
    case = approve(request(order, K.ORDER), django_capture_on_commit_callbacks)
    assert notify(case) == "refunded"
    assert notify(case) == "duplicate"

    case.refresh_from_db()
    assert case.stock_returned is True
    assert [Sku.objects.get(pk=s.pk).stock for s in skus] == [10, 10]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_shipped_goods_return_to_stock_only_when_returned(
    merchant, customer, skus, refund_deliveries, django_capture_on_commit_callbacks
):
    order = shipped_order(merchant=merchant, customer=customer, lines=[(skus[1], 3)])
    line = line_of(order, skus[1])
    refund(
        order,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, quantity=1)],
    )
    assert Sku.objects.get(pk=skus[1].pk).stock == 7
    refund(
        order,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, quantity=1)],
        return_goods=True,
    )
    assert Sku.objects.get(pk=skus[1].pk).stock == 8
    refund(
        order,
        K.AMOUNT,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, amount="5.00")],
        return_goods=True,
    )
    assert Sku.objects.get(pk=skus[1].pk).stock == 8
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


# --- clawback ------------------------------------------------------------------------------------


def test_partial_refund_reduces_frozen_records_pro_rata(
    settled, skus, chain, django_capture_on_commit_callbacks
):
    line = line_of(settled, skus[1])
    refund(
        settled,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, quantity=1)],
    )

    assert amounts(settled, skus[1]) == [
        (1, D("3.00"), D("1.00"), "frozen"),
        (2, D("1.50"), D("0.50"), "frozen"),
        (3, D("0.60"), D("0.20"), "frozen"),
    ]
    assert balances(chain[3]) == (D("5.33"), D("0.00"))  # 3.33 + 3.00 − 1.00
    assert balances(chain[2]) == (D("2.66"), D("0.00"))  # 1.66 + 1.50 − 0.50
    assert balances(chain[1]) == (D("1.06"), D("0.00"))  # 0.66 + 0.60 − 0.20


def test_full_line_refund_cancels_frozen_records_exactly(
    settled, skus, chain, django_capture_on_commit_callbacks
):
    line = line_of(settled, skus[0])
    refund(
        settled,
        K.AMOUNT,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, amount="10.00")],
    )
    assert amounts(settled, skus[0]) == [
        (1, D("3.33"), D("1.00"), "frozen"),
        (2, D("1.66"), D("0.50"), "frozen"),  # 1.66 × 10/33.33 = 0.498 → 0.50
        (3, D("0.66"), D("0.20"), "frozen"),  # 0.198 → 0.20
    ]
    refund(settled, K.LINE, django_capture_on_commit_callbacks, [RefundLineRequest(line.pk)])
    assert amounts(settled, skus[0]) == [
        (1, D("3.33"), D("3.33"), "cancelled"),
        (2, D("1.66"), D("1.66"), "cancelled"),
        (3, D("0.66"), D("0.66"), "cancelled"),
    ]
    assert balances(chain[3]) == (D("3.00"), D("0.00"))


def test_released_record_is_reversed_on_available_even_below_zero(
    settled, skus, chain, django_capture_on_commit_callbacks
):
    record = CommissionRecord.objects.get(order_line__sku=skus[0], level=1)
    assert commission_release(record_id=record.pk, now=record.release_at) is True
    assert balances(chain[3]) == (D("3.00"), D("3.33"))
    # the distributor has asked to withdraw the 3.33 meanwhile (the withdrawals engineer's side)
    with transaction.atomic():
        ledger_post(
            merchant_id=settled.merchant_id,
            kind=Journal.Kind.WITHDRAWAL_REQUESTED,
            key="withdrawal:test",
            legs=[
                Leg(LedgerEntry.Account.AVAILABLE, D("-3.33"), distributor_id=chain[3].pk),
                Leg(LedgerEntry.Account.WITHDRAWING, D("3.33"), distributor_id=chain[3].pk),
            ],
        )

    line = line_of(settled, skus[0])
    refund(settled, K.LINE, django_capture_on_commit_callbacks, [RefundLineRequest(line.pk)])

    record.refresh_from_db()
    assert (record.status, record.reversed_amount) == ("released", D("3.33"))
    assert balances(chain[3]) == (D("3.00"), D("-3.33"))
    reversal = CommissionReversal.objects.get(record=record)
    assert (reversal.amount, reversal.from_status) == (D("3.33"), "released")
    assert Wallet.objects.get(distributor=chain[3]).withdrawing == D("3.33")
    assert ledger_breaches() == []


def test_release_waits_for_open_cases_and_moves_what_is_left(
    settled, skus, chain, django_capture_on_commit_callbacks
):
    record = CommissionRecord.objects.get(order_line__sku=skus[1], level=1)
    line = line_of(settled, skus[1])
    case = request(settled, K.QUANTITY, [RefundLineRequest(line.pk, quantity=1)])

    assert commission_release(record_id=record.pk, now=record.release_at) is False
    assert commissions_release_due(now=record.release_at) == 3  # the first line's records only

    approve(case, django_capture_on_commit_callbacks)
    assert commission_release(record_id=record.pk, now=record.release_at) is False
    assert notify(case) == "refunded"
    assert commissions_release_due(now=record.release_at) == 3
    record.refresh_from_db()
    assert (record.status, record.reversed_amount) == ("released", D("1.00"))
    assert balances(chain[3]) == (D("0.00"), D("5.33"))


def test_refund_before_completion_is_clawed_back_at_settlement(
    merchant, customer, chain, skus, refund_deliveries, django_capture_on_commit_callbacks
):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = shipped_order(merchant=merchant, customer=customer, lines=[(skus[1], 3)])
    line = line_of(order, skus[1])
    refund(
        order,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, quantity=1)],
    )
    assert order_complete(order=order) is True
    assert commission_settle_orders(order_id=order.pk) == 3
    assert amounts(order, skus[1]) == [
        (1, D("3.00"), D("1.00"), "frozen"),
        (2, D("1.50"), D("0.50"), "frozen"),
        (3, D("0.60"), D("0.20"), "frozen"),
    ]
    assert balances(chain[3]) == (D("2.00"), D("0.00"))


def test_earned_minus_reversed_equals_the_balances(
    settled, skus, chain, django_capture_on_commit_callbacks
):
    first, second = line_of(settled, skus[0]), line_of(settled, skus[1])
    released = CommissionRecord.objects.get(order_line=first, level=2)
    commission_release(record_id=released.pk, now=released.release_at)
    refund(
        settled,
        K.AMOUNT,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(first.pk, amount="0.01")],
    )
    refund(
        settled,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(second.pk, quantity=2)],
    )
    refund(
        settled,
        K.AMOUNT,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(first.pk, amount="33.32")],
    )

    for distributor in chain[1:]:
        earned = CommissionRecord.objects.filter(beneficiary=distributor).aggregate(
            t=Sum("amount")
        )["t"]
        reversed_ = CommissionReversal.objects.filter(beneficiary=distributor).aggregate(
            t=Sum("amount")
        )["t"]
        frozen, available = balances(distributor)
        assert earned - reversed_ == frozen + available
        assert (
            reversed_
            == CommissionRecord.objects.filter(beneficiary=distributor).aggregate(
                t=Sum("reversed_amount")
            )["t"]
        )
    assert CommissionRecord.objects.get(pk=released.pk).reversed_amount == D("1.66")


# --- money for a closed order ----------------------------------------------------------------------


def test_unclaimed_payment_is_refunded_in_full_once(
    merchant, customer, skus, refund_deliveries, django_capture_on_commit_callbacks
):
    order = place(merchant=merchant, customer=customer, lines=[(skus[0], 1)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    order_cancel(order=order)
    body, headers = signed_notification(payment)
    assert (
        payment_handle_notification(provider="sandbox", body=body, headers=headers)
        == "refund_required"
    )

    with django_capture_on_commit_callbacks(execute=True):
        case = payment_refund_unclaimed(merchant=merchant, payment_id=payment.pk, actor=None)
    assert (
        payment_refund_unclaimed(merchant=merchant, payment_id=payment.pk, actor=None).pk == case.pk
    )
    assert (case.kind, case.status, case.amount) == (K.UNCLAIMED_PAYMENT, S.REFUNDING, D("33.33"))
    assert len(refund_deliveries) == 1
    assert notify(case) == "refunded"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Sku.objects.get(pk=skus[0].pk).stock == 10  # given back by the cancel, not again
    assert (
        payment_refund_unclaimed(merchant=merchant, payment_id=payment.pk, actor=None).pk == case.pk
    )
    assert RefundCase.objects.count() == 1


def test_refund_and_clawback_journals(settled, skus, chain, django_capture_on_commit_callbacks):
    line = line_of(settled, skus[1])
    case = refund(
        settled,
        K.QUANTITY,
        django_capture_on_commit_callbacks,
        [RefundLineRequest(line.pk, quantity=1)],
    )
    assert notify(case) == "duplicate"

    # fee 1 % of 63.36 = 0.63; the share of 10.01 is 0.63 × 10.01 / 63.36 = 0.0995… → 0.09
    assert case.platform_fee_share == D("0.09")
    refund_journal = Journal.objects.get(kind=Journal.Kind.REFUND)
    assert refund_journal.key == f"refund:{case.pk}"
    assert sorted(refund_journal.entries.values_list("account", "amount")) == [
        ("merchant_payable", D("-9.92")),
        ("platform_fee", D("-0.09")),
        ("provider", D("10.01")),
    ]
    clawbacks = Journal.objects.filter(kind=Journal.Kind.COMMISSION_REVERSED).order_by("id")
    assert [
        sorted(journal.entries.values_list("account", "distributor_id", "amount"))
        for journal in clawbacks
    ] == [
        [("frozen", chain[level].pk, -amount), ("merchant_payable", None, amount)]
        for level, amount in ((3, D("1.00")), (2, D("0.50")), (1, D("0.20")))
    ]


def test_provider_unreachable_leaves_the_case_approved_for_beat(
    settled, refund_deliveries, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.payments.providers.sandbox import SandboxProvider
    from apps.refunds.services import refunds_stuck_approved
    from apps.refunds.tasks import refund_execute_task

    case = request(settled, K.ORDER)
    original = SandboxProvider.refund

    def unreachable(self, payment, amount, key):  # type: ignore[no-untyped-def]
        raise ConnectionError("provider down")

    monkeypatch.setattr(SandboxProvider, "refund", unreachable)
    case = approve(case, django_capture_on_commit_callbacks)
    assert case.status == S.APPROVED
    assert refunds_stuck_approved() == []  # not yet: give the first attempt two minutes
    RefundCase.objects.filter(pk=case.pk).update(decided_at=timezone.now() - timedelta(minutes=3))
    assert refunds_stuck_approved() == [case.pk]

    monkeypatch.setattr(SandboxProvider, "refund", original)
    with django_capture_on_commit_callbacks(execute=True):
        assert refund_execute_task(case.pk) == "refunding"
    assert refund_execute_task(case.pk) == "skipped"
    case.refresh_from_db()
    assert case.status == S.REFUNDING
    assert len(refund_deliveries) == 1
    assert notify(case) == "refunded"


def test_provider_refusal_fails_the_case(settled, monkeypatch, django_capture_on_commit_callbacks):
    from apps.payments.providers import RefundRefused
    from apps.payments.providers.sandbox import SandboxProvider

    def refused(self, payment, amount, key):  # type: ignore[no-untyped-def]
        raise RefundRefused("account closed")

    monkeypatch.setattr(SandboxProvider, "refund", refused)
    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)
    assert (case.status, case.failure_reason) == (S.FAILED, "account closed")
    assert request(settled, K.ORDER).amount == D("63.36")  # a failed case holds nothing


def test_the_refund_callback_acknowledges_and_ignores_repeats(
    client, settled, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from .conftest import refund_notification

    case = approve(request(settled, K.ORDER), django_capture_on_commit_callbacks)
    body, headers = refund_notification(case)
    url = reverse("payments:refund-notify", kwargs={"provider": "sandbox"})
    http_headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
    }
    for _ in range(2):
        response = client.post(url, body, content_type="application/json", **http_headers)
        assert (response.status_code, response.json()) == (200, {"code": "SUCCESS"})
    forged = client.post(
        url, body, content_type="application/json", HTTP_X_SANDBOX_SIGNATURE="0" * 64
    )
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_notification")
    case.refresh_from_db()
    assert case.status == S.REFUNDED
    assert Journal.objects.filter(kind=Journal.Kind.REFUND).count() == 1
