from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.orders.services import order_cancel
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.refunds.models import RefundCase
from apps.refunds.services import refund_request
from tests.factories import MerchantStaffFactory
from tests.services.flows import place, signed_notification

pytestmark = pytest.mark.django_db
S = RefundCase.Status


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _case(order):  # type: ignore[no-untyped-def]
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=RefundCase.Kind.ORDER,
        reason="arrived broken",
    )


CHANGELIST = reverse("admin:refunds_refundcase_changelist")


def test_reject_action_needs_a_reason(settled, staff_client):
    case = _case(settled)
    body = {"action": "reject_refunds", ACTION_CHECKBOX_NAME: [case.pk], "post": "yes"}

    response = staff_client.post(CHANGELIST, {**body, "reason": "  "})
    assert response.status_code == 200
    assert "Please give a reason." in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.REQUESTED

    response = staff_client.post(CHANGELIST, {**body, "reason": "Used, not broken"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.merchant_reason) == (S.REJECTED, "Used, not broken")
    assert case.status_changes.last().actor is not None


def test_approve_button_refunds_through_the_provider(
    settled, staff_client, refund_deliveries, django_capture_on_commit_callbacks
):
    case = _case(settled)
    url = reverse("admin:refunds_refundcase_decide", args=[case.pk, "approve"])
    assert staff_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"post": "yes", "reason": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.REFUNDING
    assert len(refund_deliveries) == 1
    # a second approval is refused and reported, with no second refund
    staff_client.post(
        CHANGELIST, {"action": "approve_refunds", ACTION_CHECKBOX_NAME: [case.pk], "post": "yes"}
    )
    assert len(refund_deliveries) == 1
    change = staff_client.get(reverse("admin:refunds_refundcase_change", args=[case.pk]))
    assert change.status_code == 200
    assert "approve-link" not in change.content.decode()


def test_another_merchants_case_is_absent(settled, other_merchant, client):
    case = _case(settled)
    client.force_login(MerchantStaffFactory(merchant=other_merchant).user)
    url = reverse("admin:refunds_refundcase_decide", args=[case.pk, "approve"])
    assert client.post(url, {"post": "yes"}).status_code == 404
    case.refresh_from_db()
    assert case.status == S.REQUESTED


def test_payment_action_refunds_money_for_a_closed_order(
    merchant, customer, skus, staff_client, refund_deliveries, django_capture_on_commit_callbacks
):
    order = place(merchant=merchant, customer=customer, lines=[(skus[0], 1)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    order_cancel(order=order)
    body, headers = signed_notification(payment)
    payment_handle_notification(provider="sandbox", body=body, headers=headers)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:payments_payment_changelist"),
            {"action": "refund_unclaimed", ACTION_CHECKBOX_NAME: [payment.pk]},
        )
    assert response.status_code == 302
    case = RefundCase.objects.get(payment=payment)
    assert (case.status, case.amount) == (S.REFUNDING, Decimal("33.33"))
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUND_REQUIRED
    assert len(refund_deliveries) == 1


def test_the_approve_form_asks_who_bears_a_refund_of_supplied_goods(
    settled, staff_client, refund_deliveries, django_capture_on_commit_callbacks
):
    case = _case(settled)
    url = reverse("admin:refunds_refundcase_decide", args=[case.pk, "approve"])
    form = staff_client.get(url).content.decode()
    assert 'name="supply_borne_by"' in form
    reject = reverse("admin:refunds_refundcase_decide", args=[case.pk, "reject"])
    assert 'name="supply_borne_by"' not in staff_client.get(reject).content.decode()

    refused = staff_client.post(url, {"post": "yes", "reason": "", "supply_borne_by": "nobody"})
    assert refused.status_code == 200  # the form's error, nothing decided
    case.refresh_from_db()
    assert (case.status, case.supply_borne_by) == (S.REQUESTED, "supplier")

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"post": "yes", "reason": "", "supply_borne_by": "merchant"})
    case.refresh_from_db()
    assert (case.status, case.supply_borne_by) == (S.REFUNDING, "merchant")
    change = staff_client.get(reverse("admin:refunds_refundcase_change", args=[case.pk]))
    assert "The store (the supplier keeps its share)" in change.content.decode()
