"""The sandbox provider's payouts: recorded in its own table, once per idempotency key, and in its
books (``SandboxTransaction``, what reconciliation reads) when money left."""

from decimal import Decimal

import pytest

from apps.payments.models import SandboxPayout, SandboxTransaction
from apps.payments.providers import provider_get

pytestmark = pytest.mark.django_db


def books():
    return list(
        SandboxTransaction.objects.values_list(
            "merchant_id", "kind", "reference", "provider_reference", "amount", "receiver"
        )
    )


def test_a_payout_is_recorded_and_succeeds(merchant):
    sandbox = provider_get("sandbox")

    result = sandbox.payout(
        merchant_id=merchant.pk,
        withdrawal_reference="W1",
        amount=Decimal("98.50"),
        idempotency_key="k1",
        account="alipay:li",
    )

    assert result.succeeded is True
    record = SandboxPayout.objects.get()
    assert (record.idempotency_key, record.amount, record.account, record.reference) == (
        "k1",
        Decimal("98.50"),
        "alipay:li",
        result.reference,
    )
    assert sandbox.payout_query(idempotency_key="k1") == result
    assert books() == [
        (merchant.pk, "payout", "k1", result.reference, Decimal("98.50"), "alipay:li")
    ]


def test_the_same_key_again_pays_once_and_answers_the_first_result(merchant):
    sandbox = provider_get("sandbox")
    first = sandbox.payout(
        merchant_id=merchant.pk,
        withdrawal_reference="W1",
        amount=Decimal("10.00"),
        idempotency_key="k1",
        account="a",
    )

    again = sandbox.payout(
        merchant_id=merchant.pk,
        withdrawal_reference="W1",
        amount=Decimal("10.00"),
        idempotency_key="k1",
        account="a",
    )

    assert again == first
    assert SandboxPayout.objects.count() == 1
    assert books() == [(merchant.pk, "payout", "k1", first.reference, Decimal("10.00"), "a")]


def test_an_account_starting_with_fail_is_refused(merchant):
    sandbox = provider_get("sandbox")

    result = sandbox.payout(
        merchant_id=merchant.pk,
        withdrawal_reference="W2",
        amount=Decimal("10.00"),
        idempotency_key="k2",
        account="fail-1",
    )

    assert result.succeeded is False
    assert result.message == "account refused by the sandbox"
    assert SandboxPayout.objects.get().succeeded is False
    assert books() == []  # no money left


def test_an_unknown_key_has_no_payout():
    assert provider_get("sandbox").payout_query(idempotency_key="never") is None
