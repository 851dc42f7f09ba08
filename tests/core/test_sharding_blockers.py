"""manage.py sharding_blockers reads the real schema and names what blocks Citus distribution."""

import io

import pytest
from django.core.management import call_command

from apps.core.management.commands.sharding_blockers import sharding_plan


@pytest.fixture
def plan(db):
    return sharding_plan()


def test_merchant_owned_tables_are_distributed_and_users_are_a_reference_table(plan):
    distributed = {table.name: table.distribution_column for table in plan.distributed}

    assert distributed["orders_order"] == "merchant_id"
    assert distributed["commissions_ledgerentry"] == "merchant_id"
    assert distributed["merchants_merchant"] == "id"
    reference = {table.name for table in plan.reference}
    assert {"accounts_user", "suppliers_supplier", "suppliers_supplysku"} <= reference
    assert not reference & set(distributed)
    assert "django_session" in {table.name for table in plan.coordinator}


def test_keys_without_merchant_id_are_blockers(plan):
    orders = plan.blockers["orders_orderline"]
    commissions = plan.blockers["commissions_commissionrecord"]

    assert "primary key orders_orderline_pkey (id) lacks merchant_id" in orders
    assert any(item.startswith("foreign key") and "→ orders_order lacks" in item for item in orders)
    assert (
        "unique index commission_once_per_line_level (order_line_id, beneficiary_id, level, kind)"
        " lacks merchant_id" in commissions
    )
    # A foreign key to the merchant itself is already co-located.
    assert not any("→ merchants_merchant" in item for item in orders)


def test_the_ledger_triggers_are_noted(plan):
    assert any(
        "commissions_journal_balanced" in note for note in plan.notes["commissions_ledgerentry"]
    )


def test_the_command_prints_the_plan_and_check_fails_while_anything_blocks(db):
    out = io.StringIO()
    call_command("sharding_blockers", stdout=out)

    with pytest.raises(SystemExit) as exit_info:
        call_command("sharding_blockers", "--check", stdout=io.StringIO())

    assert out.getvalue().startswith("Distributed by merchant_id (")
    assert "  orders_order (merchant_id)\n" in out.getvalue()
    assert exit_info.value.code == 1
