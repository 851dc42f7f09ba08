from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.refunds.models import RefundCase

pytestmark = pytest.mark.django_db
D = Decimal


def _client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_customer_asks_staff_approve(
    settled, skus, staff_user, refund_deliveries, django_capture_on_commit_callbacks
):
    customer = _client(settled.customer)
    url = reverse("api:store-refund-list", kwargs={"store": settled.merchant.slug})
    line = settled.lines.get(sku=skus[1])
    response = customer.post(
        url,
        {
            "order": settled.pk,
            "kind": "quantity",
            "reason": "one cup cracked",
            "return_goods": True,
            "lines": [{"order_line": line.pk, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["kind"]) == ("requested", "10.01", "quantity")
    assert body["lines"][0]["quantity"] == 1
    too_much = customer.post(
        url,
        {
            "order": settled.pk,
            "kind": "amount",
            "reason": "more",
            "lines": [{"order_line": line.pk, "amount": "20.03"}],
        },
        format="json",
    )
    assert (too_much.status_code, too_much.json()["code"]) == (409, "amount_exceeds_refundable")
    bad = customer.post(url, {"order": settled.pk, "kind": "refund_all", "reason": "x"})
    assert bad.status_code == 400

    staff = _client(staff_user)
    approve = reverse("api:merchant-refund-approve", kwargs={"pk": body["id"]})
    with django_capture_on_commit_callbacks(execute=True):
        approved = staff.post(approve, {"reason": "sorry"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["status"] == "refunding"
    assert staff.post(approve, {}, format="json").status_code == 409
    assert len(refund_deliveries) == 1
    reject = reverse("api:merchant-refund-reject", kwargs={"pk": body["id"]})
    assert staff.post(reject, {}, format="json").status_code == 400


def test_customer_withdraws(settled):
    customer = _client(settled.customer)
    slug = settled.merchant.slug
    created = customer.post(
        reverse("api:store-refund-list", kwargs={"store": slug}),
        {"order": settled.pk, "kind": "order", "reason": "changed my mind"},
        format="json",
    ).json()
    url = reverse("api:store-refund-cancel", kwargs={"store": slug, "pk": created["id"]})
    assert customer.post(url).json()["status"] == "cancelled"
    assert customer.post(url).status_code == 409


def _cases(order, n):  # type: ignore[no-untyped-def]
    from apps.refunds.services import RefundLineRequest, refund_request

    line = order.lines.order_by("id").last()
    return [
        refund_request(
            merchant=order.merchant,
            customer=order.customer,
            order_id=order.pk,
            kind=RefundCase.Kind.AMOUNT,
            reason="scratched",
            lines=[RefundLineRequest(line.pk, amount="1.00")],
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("rows", [1, 4])
def test_lists_take_the_same_queries_for_one_row_or_several(
    settled, staff_user, rows, django_assert_num_queries
):
    _cases(settled, rows)
    customer = _client(settled.customer)
    with django_assert_num_queries(5):
        response = customer.get(
            reverse("api:store-refund-list", kwargs={"store": settled.merchant.slug})
        )
    assert len(response.json()["results"]) == rows
    staff = _client(staff_user)
    with django_assert_num_queries(5):
        response = staff.get(reverse("api:merchant-refund-list"))
    assert len(response.json()["results"]) == rows
