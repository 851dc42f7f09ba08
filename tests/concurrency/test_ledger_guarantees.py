"""What the database itself guarantees about the ledger, with real commits."""

from decimal import Decimal as D

import pytest
from django.db import DatabaseError, transaction

from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.ledger.posting import Leg, ledger_post

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

Account = LedgerEntry.Account


def test_a_transaction_leaving_a_journal_unbalanced_cannot_commit(merchant):
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        journal = Journal.objects.create(merchant=merchant, kind="adjustment", key="rogue")
        LedgerEntry.objects.create(
            merchant=merchant, journal=journal, account=Account.PLATFORM_FEE, amount=D("1.00")
        )

    assert not Journal.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_a_balanced_journal_written_in_two_statements_commits(merchant):
    with transaction.atomic():
        journal = Journal.objects.create(merchant=merchant, kind="adjustment", key="two-steps")
        LedgerEntry.objects.create(
            merchant=merchant, journal=journal, account=Account.PLATFORM_FEE, amount=D("1.00")
        )
        LedgerEntry.objects.create(
            merchant=merchant, journal=journal, account=Account.MERCHANT_PAYABLE, amount=D("-1.00")
        )

    assert LedgerEntry.objects.filter(journal=journal).count() == 2


def test_the_same_key_posted_from_eight_threads_at_once_moves_money_once(merchant, chain):
    def post():
        with transaction.atomic():
            return ledger_post(
                merchant_id=merchant.pk,
                kind="adjustment",
                key="bonus:2026-11",
                legs=[
                    Leg(Account.MERCHANT_PAYABLE, D("-8.88")),
                    Leg(Account.AVAILABLE, D("8.88"), distributor_id=chain[0].pk),
                ],
            )

    outcomes = race([post] * 8)

    assert [outcome.error for outcome in outcomes] == [None] * 8
    assert sum(outcome.value is not None for outcome in outcomes) == 1
    assert Wallet.objects.get(distributor=chain[0]).available == D("8.88")
    assert ledger_breaches() == []


def test_posting_outside_a_transaction_is_refused(merchant, chain):
    with pytest.raises(RuntimeError):
        ledger_post(
            merchant_id=merchant.pk,
            kind="adjustment",
            key="k",
            legs=[
                Leg(Account.MERCHANT_PAYABLE, D("-1.00")),
                Leg(Account.AVAILABLE, D("1.00"), distributor_id=chain[0].pk),
            ],
        )
