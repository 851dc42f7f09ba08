"""Fold the single-entry ledger rows written before the double-entry ledger into journals.

Before, a settlement wrote one ``frozen`` row per commission record and a release wrote a
``frozen``/``available`` pair. Each earned row becomes a journal with its balancing
``merchant_payable`` leg; each release pair becomes a journal as it is (it already balances).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    LedgerEntry = apps.get_model("commissions", "LedgerEntry")
    Journal = apps.get_model("commissions", "Journal")
    for entry in LedgerEntry.objects.filter(journal__isnull=True, kind="commission_earned"):
        journal = Journal.objects.create(
            merchant_id=entry.merchant_id,
            kind="commission_earned",
            key=f"commission:{entry.commission_id}:earned",
            order_id=entry.commission.order_id,
            created_at=entry.created_at,
        )
        LedgerEntry.objects.filter(pk=entry.pk).update(journal=journal)
        LedgerEntry.objects.create(
            merchant_id=entry.merchant_id,
            journal=journal,
            account="merchant_payable",
            distributor=None,
            amount=-entry.amount,
            commission_id=entry.commission_id,
            kind="commission_earned",
            created_at=entry.created_at,
        )
    released = LedgerEntry.objects.filter(journal__isnull=True, kind="commission_released")
    for commission_id in set(released.values_list("commission_id", flat=True)):
        legs = list(released.filter(commission_id=commission_id))
        journal = Journal.objects.create(
            merchant_id=legs[0].merchant_id,
            kind="commission_released",
            key=f"commission:{commission_id}:released",
            order_id=legs[0].commission.order_id,
            created_at=legs[0].created_at,
        )
        LedgerEntry.objects.filter(pk__in=[leg.pk for leg in legs]).update(journal=journal)


class Migration(migrations.Migration):
    dependencies = [("commissions", "0002_double_entry_journals")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
