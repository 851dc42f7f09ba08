"""The withdrawal queue in the back office: approve, reject with a reason, settings saved by the
service; another merchant's withdrawal is absent."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.ledger.models import Wallet
from apps.withdrawals import tasks
from apps.withdrawals.models import Withdrawal, WithdrawalSettings

D = Decimal


@pytest.fixture(autouse=True)
def payouts_enqueued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(tasks.withdrawal_payout_task, "delay", calls.append)
    return calls


def review_url(action: str, withdrawal: Withdrawal) -> str:
    return reverse(f"admin:withdrawals_withdrawal_{action}", args=[withdrawal.pk])


def test_the_change_page_offers_review_while_requested(store_a, staff_client):
    response = staff_client.get(
        reverse("admin:withdrawals_withdrawal_change", args=[store_a.withdrawal.pk])
    )

    assert response.status_code == 200
    assert response.context["can_review"] is True
    assert 'data-test="approve"' in response.content.decode()


def test_staff_approve(
    store_a, staff_client, staff_a, payouts_enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(review_url("approve", store_a.withdrawal))

    assert response.status_code == 302
    withdrawal = Withdrawal.objects.get(pk=store_a.withdrawal.pk)
    assert (withdrawal.status, withdrawal.reviewer) == ("approved", staff_a)
    assert payouts_enqueued == [withdrawal.pk]
    assert staff_client.get(review_url("approve", store_a.withdrawal)).status_code == 405


def test_staff_reject_with_a_reason(store_a, staff_client):
    page = staff_client.get(review_url("reject", store_a.withdrawal))
    empty = staff_client.post(review_url("reject", store_a.withdrawal), {"reason": ""})
    response = staff_client.post(
        review_url("reject", store_a.withdrawal), {"reason": "Account name does not match"}
    )

    assert page.status_code == 200
    assert empty.status_code == 400
    assert response.status_code == 302
    withdrawal = Withdrawal.objects.get(pk=store_a.withdrawal.pk)
    assert (withdrawal.status, withdrawal.reason) == ("rejected", "Account name does not match")
    assert Wallet.objects.get(distributor=store_a.child).available == D("50.00")
    again = staff_client.post(review_url("reject", store_a.withdrawal), {"reason": "twice"})
    assert again.status_code == 409
    assert "already handled" in again.content.decode()


def test_another_merchants_withdrawal_cannot_be_reviewed(store_a, store_b, staff_client):
    for action in ("approve", "reject"):
        assert (
            staff_client.post(review_url(action, store_b.withdrawal), {"reason": "x"}).status_code
            == 404
        )
    assert staff_client.get(review_url("reject", store_b.withdrawal)).status_code == 404
    assert Withdrawal.objects.get(pk=store_b.withdrawal.pk).status == "requested"


def test_approve_action_on_the_changelist(
    store_a, staff_client, payouts_enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:withdrawals_withdrawal_changelist"),
            {"action": "approve_withdrawals", "_selected_action": [store_a.withdrawal.pk]},
        )

    assert response.status_code == 302
    assert Withdrawal.objects.get(pk=store_a.withdrawal.pk).status == "approved"
    assert payouts_enqueued == [store_a.withdrawal.pk]


def test_settings_saved_through_the_service(store_a, staff_client):
    settings = WithdrawalSettings.objects.get(merchant=store_a.merchant)
    url = reverse("admin:withdrawals_withdrawalsettings_change", args=[settings.pk])
    data = {
        "minimum_amount": "20.00",
        "fee_percent": "60.00",
        "fee_free_amount": "0.00",
        "tax_percent": "40.00",
        "tax_threshold": "800.00",
        "review_required": "on",
        "payout_provider": "sandbox",
    }

    refused = staff_client.post(url, data)
    saved = staff_client.post(url, {**data, "tax_percent": "10.00"})

    assert refused.status_code == 200  # the form again, with the error
    assert saved.status_code == 302
    settings.refresh_from_db()
    assert (settings.minimum_amount, settings.fee_percent, settings.tax_percent) == (
        D("20.00"),
        D("60.00"),
        D("10.00"),
    )
