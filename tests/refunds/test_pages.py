from decimal import Decimal

import pytest
from django.urls import reverse

from apps.commissions.models import CommissionRecord
from apps.refunds.models import RefundCase
from apps.refunds.services import RefundLineRequest, refund_request
from tests.factories import UserFactory

from .conftest import notify

pytestmark = pytest.mark.django_db
D = Decimal


def url(order, name, **kwargs):  # type: ignore[no-untyped-def]
    return reverse(f"storefront:{name}", kwargs={"slug": order.merchant.slug, **kwargs})


@pytest.fixture
def signed_in(client, settled):
    client.force_login(settled.customer)
    return client


def test_order_page_offers_a_refund(signed_in, settled):
    content = signed_in.get(url(settled, "order", order_id=settled.pk)).content.decode()
    assert 'data-test="request-refund"' in content


def test_request_a_quantity_and_follow_the_case(signed_in, settled, skus):
    line = settled.lines.get(sku=skus[1])
    response = signed_in.post(
        url(settled, "refund-request", order_id=settled.pk),
        {"kind": "quantity", "order_line": line.pk, "quantity": 1, "reason": "cracked"},
    )
    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(settled, "refund", case_id=case.pk)
    assert (case.kind, case.amount) == ("quantity", D("10.01"))
    page = signed_in.get(response["Location"]).content.decode()
    assert 'data-status="requested"' in page
    assert 'data-test="refund-amount">¥10.01<' in page
    withdrawn = signed_in.post(url(settled, "refund-cancel", case_id=case.pk))
    assert withdrawn.status_code == 302
    case.refresh_from_db()
    assert case.status == "cancelled"


def test_errors_show_on_the_form_and_write_nothing(signed_in, settled, skus):
    line = settled.lines.get(sku=skus[1])
    target = url(settled, "refund-request", order_id=settled.pk)
    missing = signed_in.post(target, {"kind": "amount", "order_line": line.pk, "reason": "x"})
    assert missing.status_code == 400
    assert 'data-test="error-amount"' in missing.content.decode()
    too_much = signed_in.post(
        target, {"kind": "amount", "order_line": line.pk, "amount": "30.04", "reason": "x"}
    )
    assert too_much.status_code == 409
    assert 'data-test="error-amount"' in too_much.content.decode()
    assert RefundCase.objects.count() == 0


def test_another_customers_order_and_case_are_absent(client, settled):
    case = refund_request(
        merchant=settled.merchant,
        customer=settled.customer,
        order_id=settled.pk,
        kind="order",
        reason="x",
    )
    client.force_login(UserFactory())
    assert client.get(url(settled, "refund-request", order_id=settled.pk)).status_code == 404
    assert client.get(url(settled, "refund", case_id=case.pk)).status_code == 404
    assert client.post(url(settled, "refund-cancel", case_id=case.pk)).status_code == 404


@pytest.mark.parametrize("rows", [1, 4])
def test_refund_list_queries_do_not_grow(signed_in, settled, rows, django_assert_num_queries):
    line = settled.lines.order_by("id").last()
    for _ in range(rows):
        refund_request(
            merchant=settled.merchant,
            customer=settled.customer,
            order_id=settled.pk,
            kind="amount",
            reason="x",
            lines=[RefundLineRequest(line.pk, amount="1.00")],
        )
    with django_assert_num_queries(4):
        response = signed_in.get(url(settled, "refunds"))
    assert response.content.decode().count('data-test="refund-') == rows + 1  # + the list


def test_earnings_page_shows_reversed_amounts(
    client, settled, skus, chain, django_capture_on_commit_callbacks
):
    from apps.refunds.services import refund_approve

    line = settled.lines.get(sku=skus[1])
    case = refund_request(
        merchant=settled.merchant,
        customer=settled.customer,
        order_id=settled.pk,
        kind="quantity",
        reason="x",
        lines=[RefundLineRequest(line.pk, quantity=1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(merchant=settled.merchant, case_id=case.pk, actor=None)
    notify(case)
    client.force_login(chain[3].user)
    content = client.get(url(settled, "distributor-earnings")).content.decode()
    assert 'data-test="wallet-reversed">¥1.00<' in content
    assert content.count('data-test="record-reversed"') == 1
    assert CommissionRecord.objects.filter(reversed_amount__gt=0).count() == 3
