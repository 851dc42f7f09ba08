"""The audit trail: who changed what and when, per object in the admin, never editable."""

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from apps.commissions.models import CommissionPlan
from apps.distributors.models import Distributor
from apps.withdrawals.models import Withdrawal
from tests.admin.test_commission_rules_admin import plan_form_data


def trail(obj):
    return [
        (entry.get_action_display(), entry.actor, entry.changes_dict)
        for entry in LogEntry.objects.get_for_object(obj).order_by("pk")
    ]


def test_a_plan_change_in_the_admin_records_who_changed_what(store_a, staff_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)
    before = LogEntry.objects.get_for_object(plan).count()

    response = staff_client.post(
        reverse("admin:commissions_commissionplan_change", args=[plan.pk]),
        plan_form_data(plan, level1_percent="12.50"),
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )

    assert response.status_code == 302
    entries = list(LogEntry.objects.get_for_object(plan).order_by("pk"))[before:]
    assert [(e.get_action_display(), e.actor, e.changes_dict) for e in entries] == [
        ("update", staff_a, {"level1_percent": ["10.00", "12.50"]})
    ]
    assert entries[0].remote_addr == "10.1.2.3"  # X-Forwarded-For is not trusted


def test_the_history_page_shows_the_trail_to_the_merchants_staff_only(
    store_a, store_b, staff_a, staff_b, staff_client, client
):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)
    staff_client.post(
        reverse("admin:commissions_commissionplan_change", args=[plan.pk]),
        plan_form_data(plan, level2_percent="4.00"),
    )
    history = reverse("admin:commissions_commissionplan_history", args=[plan.pk])

    response = staff_client.get(history)

    assert response.status_code == 200
    rows = [
        (entry.actor, entry.changes_dict)
        for entry in response.context["entries"]
        if entry.action == LogEntry.Action.UPDATE
    ]
    assert rows == [(staff_a, {"level2_percent": ["5.00", "4.00"]})]
    assert 'id="audit-trail"' in response.content.decode()
    client.force_login(staff_b)
    assert client.get(history).status_code == 404


def test_a_suspension_is_in_the_distributors_trail(store_a, staff_a, staff_client):
    distributor = store_a.child

    response = staff_client.post(
        reverse("admin:distributors_distributor_changelist"),
        {"action": "suspend_distributors", "_selected_action": [str(distributor.pk)]},
    )

    assert response.status_code == 302
    distributor.refresh_from_db()
    assert distributor.status == Distributor.Status.SUSPENDED
    assert trail(distributor)[-1] == ("update", staff_a, {"status": ["active", "suspended"]})


def test_a_withdrawal_decision_is_in_its_trail_with_the_reviewer(store_a, staff_a, staff_client):
    withdrawal = store_a.withdrawal
    assert withdrawal.status == Withdrawal.Status.REQUESTED

    response = staff_client.post(
        reverse("admin:withdrawals_withdrawal_changelist"),
        {"action": "approve_withdrawals", "_selected_action": [str(withdrawal.pk)]},
    )

    assert response.status_code == 302
    action, actor, changes = trail(withdrawal)[-1]
    assert (action, actor, changes["status"]) == ("update", staff_a, ["requested", "approved"])


def test_the_trail_cannot_be_changed_or_deleted(store_a):
    entry = LogEntry.objects.get_for_object(store_a.merchant).earliest("pk")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.filter(pk=entry.pk).count() == 1


def test_staff_cannot_open_the_whole_trail(staff_client, operator):
    changelist = reverse("admin:auditlog_logentry_changelist")
    operator_client = Client()
    operator_client.force_login(operator)

    assert staff_client.get(changelist).status_code == 403
    assert operator_client.get(changelist).status_code == 200
