"""Withdrawal services: request, review, payout, sweeper — balances, ledger and history exact."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.errors import Conflict, DomainError, NotFound
from apps.ledger.models import Journal, LedgerEntry
from apps.payments.models import SandboxPayout
from apps.payments.providers import PayoutUnavailable
from apps.payments.providers.sandbox import SandboxProvider
from apps.withdrawals import services
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_request,
    withdrawal_resume,
    withdrawals_left_behind,
)
from apps.withdrawals.tasks import withdrawal_payout_task
from tests.factories import MerchantFactory, MerchantStaffFactory

from .conftest import balances, fund

pytestmark = pytest.mark.django_db

D = Decimal


def ledger_ok() -> None:
    call_command("ledger_check")  # exits non-zero (SystemExit) on any breach


def journals(withdrawal: Withdrawal) -> list[tuple[str, str]]:
    return list(
        Journal.objects.filter(key__startswith=f"withdrawal:{withdrawal.pk}:")
        .order_by("id")
        .values_list("kind", "key")
    )


def history(withdrawal: Withdrawal) -> list[tuple[str, str, str]]:
    return list(
        withdrawal.status_changes.order_by("id").values_list("from_status", "to_status", "reason")
    )


def request(merchant, distributor, amount="1000.00", account="alipay:li"):  # type: ignore[no-untyped-def]
    return withdrawal_request(
        merchant=merchant, distributor=distributor, amount=amount, account=account
    )


# --- request ----------------------------------------------------------------------------------


def test_a_request_debits_the_available_balance_once(merchant, distributor, rules):
    fund(distributor, D("1500.00"))

    withdrawal = request(merchant, distributor, "1000.00")

    assert (withdrawal.amount, withdrawal.fee, withdrawal.tax, withdrawal.net) == (
        D("1000.00"),
        D("13.50"),
        D("40.00"),
        D("946.50"),
    )
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert balances(distributor) == (D("500.00"), D("1000.00"), D("0.00"))
    assert journals(withdrawal) == [
        ("withdrawal_requested", f"withdrawal:{withdrawal.pk}:requested")
    ]
    assert history(withdrawal) == [("", "requested", "")]
    ledger_ok()


def test_the_whole_balance_can_be_withdrawn_and_not_a_cent_more(merchant, distributor, rules):
    fund(distributor, D("100.00"))

    with pytest.raises(DomainError) as refused:
        request(merchant, distributor, "100.01")
    assert refused.value.code == "insufficient_balance"
    assert refused.value.message == "You can withdraw at most ¥100.00."

    request(merchant, distributor, "100.00")
    assert balances(distributor) == (D("0.00"), D("100.00"), D("0.00"))
    with pytest.raises(DomainError) as again:
        request(merchant, distributor, "10.00")
    assert again.value.code == "insufficient_balance"
    assert Withdrawal.objects.count() == 1


def test_the_same_request_token_makes_one_withdrawal(merchant, distributor, rules):
    fund(distributor, D("100.00"))

    first = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="60.00", account="a", request_token="t1"
    )
    again = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="60.00", account="a", request_token="t1"
    )
    other = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="40.00", account="a", request_token="t2"
    )

    assert again.pk == first.pk != other.pk
    assert balances(distributor) == (D("0.00"), D("100.00"), D("0.00"))


def test_the_minimum_is_enforced_to_the_cent(merchant, distributor, rules):
    fund(distributor, D("50.00"))

    with pytest.raises(DomainError) as refused:
        request(merchant, distributor, "9.99")

    assert refused.value.code == "below_minimum"
    assert refused.value.message == "The minimum withdrawal is ¥10.00."
    assert request(merchant, distributor, "10.00").net == D("10.00")
    assert Withdrawal.objects.count() == 1


@pytest.mark.parametrize("amount", ["abc", "1.001", "0", "-5.00", "NaN", "Infinity", 1.5, None])
def test_a_malformed_amount_is_refused_and_writes_nothing(merchant, distributor, rules, amount):
    fund(distributor, D("50.00"))

    with pytest.raises(DomainError) as refused:
        request(merchant, distributor, amount)

    assert refused.value.code == "invalid_amount"
    assert Withdrawal.objects.count() == 0
    assert balances(distributor) == (D("50.00"), D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("account", "code"),
    [("", "account_required"), ("  ", "account_required"), ("x" * 65, "account_too_long")],
)
def test_an_account_is_required(merchant, distributor, rules, account, code):
    fund(distributor, D("50.00"))

    with pytest.raises(DomainError) as refused:
        request(merchant, distributor, "20.00", account=account)

    assert refused.value.code == code
    assert Withdrawal.objects.count() == 0


def test_a_debt_must_be_covered_before_anything_is_withdrawn(merchant, distributor, rules):
    # given a released ¥30 clawed back after ¥30 more: available is −¥20 (a debt)
    fund(distributor, D("-20.00"))

    with pytest.raises(DomainError) as refused:
        request(merchant, distributor, "10.00")
    assert refused.value.message == "You can withdraw at most ¥0.00."

    # when ¥50 is released later, the debt is paid off first: ¥30 can be withdrawn, not ¥50
    fund(distributor, D("50.00"))
    with pytest.raises(DomainError):
        request(merchant, distributor, "30.01")
    request(merchant, distributor, "30.00")
    assert balances(distributor) == (D("0.00"), D("30.00"), D("0.00"))
    ledger_ok()


def test_a_distributor_of_another_merchant_cannot_request_here(merchant, distributor, rules):
    fund(distributor, D("50.00"))

    with pytest.raises(NotFound):
        request(MerchantFactory(), distributor, "20.00")


def test_without_review_a_request_is_approved_and_paid_out_after_commit(
    merchant, distributor, rules, payouts_enqueued, django_capture_on_commit_callbacks
):
    WithdrawalSettings.objects.filter(pk=rules.pk).update(review_required=False)
    fund(distributor, D("50.00"))

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = request(merchant, distributor, "50.00")

    assert withdrawal.status == Withdrawal.Status.APPROVED
    assert payouts_enqueued == [withdrawal.pk]
    assert history(withdrawal) == [
        ("", "requested", ""),
        ("requested", "approved", "Approved automatically (no review)."),
    ]


def test_without_settings_the_defaults_apply(merchant, distributor):
    fund(distributor, D("1000.00"))

    withdrawal = request(merchant, distributor, "1000.00")

    # minimum ¥1, no fee, no tax, review required, the sandbox
    assert (withdrawal.fee, withdrawal.tax, withdrawal.net) == (D("0.00"), D("0.00"), D("1000.00"))
    assert (withdrawal.status, withdrawal.payout_provider) == ("requested", "sandbox")


# --- review -----------------------------------------------------------------------------------


@pytest.fixture
def requested(merchant, distributor, rules):
    fund(distributor, D("1500.00"))
    return request(merchant, distributor, "1000.00")


def test_approving_enqueues_the_payout_on_commit(
    merchant, staff_user, requested, payouts_enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawal_approve(
            merchant=merchant, withdrawal_id=requested.pk, actor=staff_user
        )

    assert withdrawal.status == Withdrawal.Status.APPROVED
    assert withdrawal.reviewer == staff_user
    assert payouts_enqueued == [requested.pk]
    assert history(withdrawal)[-1] == ("requested", "approved", "")
    with pytest.raises(Conflict) as again:
        withdrawal_approve(merchant=merchant, withdrawal_id=requested.pk, actor=staff_user)
    assert again.value.code == "already_reviewed"


def test_rejecting_returns_the_money_with_the_reason(merchant, distributor, staff_user, requested):
    withdrawal = withdrawal_reject(
        merchant=merchant, withdrawal_id=requested.pk, actor=staff_user, reason="  wrong account "
    )

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reason) == ("rejected", "wrong account")
    assert balances(distributor) == (D("1500.00"), D("0.00"), D("0.00"))
    assert journals(withdrawal) == [
        ("withdrawal_requested", f"withdrawal:{withdrawal.pk}:requested"),
        ("withdrawal_returned", f"withdrawal:{withdrawal.pk}:returned"),
    ]
    assert history(withdrawal)[-1] == ("requested", "rejected", "wrong account")
    with pytest.raises(Conflict):
        withdrawal_approve(merchant=merchant, withdrawal_id=requested.pk, actor=staff_user)
    ledger_ok()


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "reason_required"), ("   ", "reason_required"), ("x" * 256, "reason_too_long")],
)
def test_a_rejection_needs_a_reason(merchant, distributor, staff_user, requested, reason, code):
    with pytest.raises(DomainError) as refused:
        withdrawal_reject(
            merchant=merchant, withdrawal_id=requested.pk, actor=staff_user, reason=reason
        )

    assert refused.value.code == code
    assert Withdrawal.objects.get().status == "requested"
    assert balances(distributor) == (D("500.00"), D("1000.00"), D("0.00"))


def test_another_merchants_withdrawal_is_absent(requested):
    other = MerchantFactory()
    staff = MerchantStaffFactory(merchant=other).user

    with pytest.raises(NotFound):
        withdrawal_approve(merchant=other, withdrawal_id=requested.pk, actor=staff)
    with pytest.raises(NotFound):
        withdrawal_reject(merchant=other, withdrawal_id=requested.pk, actor=staff, reason="no")
    assert Withdrawal.objects.get().status == "requested"


# --- payout -----------------------------------------------------------------------------------


@pytest.fixture
def approved(merchant, staff_user, requested, payouts_enqueued):
    return withdrawal_approve(merchant=merchant, withdrawal_id=requested.pk, actor=staff_user)


def payable_and_tax() -> tuple[Decimal, Decimal]:
    def total(account: str) -> Decimal:
        return sum(
            LedgerEntry.objects.filter(account=account).values_list("amount", flat=True), D("0")
        )

    return total("merchant_payable"), total("tax_withheld")


def test_a_paid_payout_moves_the_money_out_for_good(distributor, approved):
    payable_before, _tax = payable_and_tax()

    assert withdrawal_pay(withdrawal_id=approved.pk) == "paid"

    approved.refresh_from_db()
    payout = SandboxPayout.objects.get()
    assert (payout.idempotency_key, payout.amount, payout.account) == (
        approved.idempotency_key,
        D("946.50"),
        "alipay:li",
    )
    assert approved.provider_reference == payout.reference
    assert balances(distributor) == (D("500.00"), D("0.00"), D("946.50"))
    payable_after, tax = payable_and_tax()
    assert (payable_after - payable_before, tax) == (D("13.50"), D("40.00"))
    assert journals(approved)[-1] == ("withdrawal_paid", f"withdrawal:{approved.pk}:paid")
    assert [row[:2] for row in history(approved)] == [
        ("", "requested"),
        ("requested", "approved"),
        ("approved", "paying"),
        ("paying", "paid"),
    ]
    ledger_ok()


def test_a_payout_run_twice_pays_once(distributor, approved, monkeypatch):
    calls = []
    real_payout = SandboxProvider.payout

    def counting(self, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["idempotency_key"])
        return real_payout(self, **kwargs)

    monkeypatch.setattr(SandboxProvider, "payout", counting)

    assert withdrawal_payout_task.apply(args=[approved.pk]).get() == "paid"
    assert withdrawal_payout_task.apply(args=[approved.pk]).get() == "paid"

    assert calls == [approved.idempotency_key]  # the second run saw it paid
    assert SandboxPayout.objects.count() == 1
    assert balances(distributor) == (D("500.00"), D("0.00"), D("946.50"))
    assert Journal.objects.filter(kind="withdrawal_paid").count() == 1


def test_a_payout_repeated_while_still_paying_pays_once(distributor, approved):
    # a first attempt paid at the provider but its answer was lost: the withdrawal is still 'paying'
    Withdrawal.objects.filter(pk=approved.pk).update(status="paying", paying_since=timezone.now())
    SandboxProvider().payout(
        merchant_id=approved.merchant_id,
        withdrawal_reference=f"W{approved.pk}",
        amount=approved.net,
        idempotency_key=approved.idempotency_key,
        account=approved.payout_account,
    )

    assert withdrawal_pay(withdrawal_id=approved.pk) == "paid"

    assert SandboxPayout.objects.count() == 1
    assert balances(distributor) == (D("500.00"), D("0.00"), D("946.50"))


def test_a_failed_payout_returns_the_money(
    merchant, distributor, staff_user, rules, payouts_enqueued
):
    fund(distributor, D("200.00"))
    withdrawal = request(merchant, distributor, "200.00", account="fail-closed-account")
    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user)

    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == "failed"

    withdrawal.refresh_from_db()
    assert withdrawal.reason == "account refused by the sandbox"
    assert balances(distributor) == (D("200.00"), D("0.00"), D("0.00"))
    assert journals(withdrawal) == [
        ("withdrawal_requested", f"withdrawal:{withdrawal.pk}:requested"),
        ("withdrawal_returned", f"withdrawal:{withdrawal.pk}:returned"),
    ]
    # run again: nothing more happens
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == "failed"
    assert balances(distributor) == (D("200.00"), D("0.00"), D("0.00"))
    ledger_ok()


def test_a_provider_without_an_answer_leaves_it_paying_and_the_task_retries(
    distributor, approved, monkeypatch
):
    def unavailable(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PayoutUnavailable("timeout")

    monkeypatch.setattr(SandboxProvider, "payout", unavailable)
    retried = []
    monkeypatch.setattr(
        withdrawal_payout_task, "retry", lambda **kwargs: retried.append(kwargs) or RuntimeError()
    )

    with pytest.raises(RuntimeError):
        withdrawal_payout_task.apply(args=[approved.pk], throw=True).get()

    assert Withdrawal.objects.get().status == "paying"
    assert [call["countdown"] for call in retried] == [10]
    assert balances(distributor) == (D("500.00"), D("1000.00"), D("0.00"))


def test_the_sweeper_asks_the_provider_before_paying_again(distributor, approved, monkeypatch):
    # given a payout made at the provider whose answer was lost, and one never made at all
    Withdrawal.objects.filter(pk=approved.pk).update(status="paying", paying_since=timezone.now())
    SandboxProvider().payout(
        merchant_id=approved.merchant_id,
        withdrawal_reference=f"W{approved.pk}",
        amount=approved.net,
        idempotency_key=approved.idempotency_key,
        account=approved.payout_account,
    )
    calls = []
    monkeypatch.setattr(
        SandboxProvider, "payout", lambda self, **kwargs: calls.append(kwargs) or None
    )
    later = timezone.now() + timedelta(minutes=11)

    assert withdrawals_left_behind(now=later) == [approved.pk]
    assert withdrawals_left_behind(now=timezone.now()) == []
    assert withdrawal_resume(withdrawal_id=approved.pk) == "paid"

    assert calls == []  # found at the provider by its key: not paid again
    assert SandboxPayout.objects.count() == 1
    assert balances(distributor) == (D("500.00"), D("0.00"), D("946.50"))
    assert withdrawals_left_behind(now=later) == []


def test_the_sweeper_pays_what_the_provider_never_saw(distributor, approved):
    Withdrawal.objects.filter(pk=approved.pk).update(status="paying", paying_since=timezone.now())

    assert withdrawal_resume(withdrawal_id=approved.pk) == "paid"

    assert SandboxPayout.objects.count() == 1
    assert balances(distributor) == (D("500.00"), D("0.00"), D("946.50"))


def test_the_sweeper_starts_approved_payouts_never_enqueued(approved):
    later = timezone.now() + services.STUCK_AFTER + timedelta(seconds=1)

    assert withdrawals_left_behind(now=later) == [approved.pk]
    assert withdrawal_resume(withdrawal_id=approved.pk) == "paid"


def test_the_sweeper_enqueues_each_payout_from_its_merchants_scope(approved, monkeypatch):
    from apps.tenancy.scope import MERCHANT, Scope, current_scope
    from apps.withdrawals.tasks import withdrawal_resume_task, withdrawals_sweep

    Withdrawal.objects.filter(pk=approved.pk).update(
        reviewed_at=timezone.now() - services.STUCK_AFTER - timedelta(seconds=1)
    )
    enqueued = []
    monkeypatch.setattr(
        withdrawal_resume_task, "delay", lambda pk: enqueued.append((pk, current_scope()))
    )

    assert withdrawals_sweep() == 1

    assert enqueued == [(approved.pk, Scope(kind=MERCHANT, merchant_id=approved.merchant_id))]
