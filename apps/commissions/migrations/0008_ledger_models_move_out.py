"""Journal, LedgerEntry and Wallet move to apps.ledger: gone from this app's state only.

The tables stay as they are (apps.ledger's models keep their names with ``db_table``), so this
and ``ledger.0001_initial`` change no row and no column.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('commissions', '0007_commission_reversals'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='journal',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='commission',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='distributor',
                ),
                migrations.RemoveField(
                    model_name='ledgerentry',
                    name='merchant',
                ),
                migrations.RemoveField(
                    model_name='wallet',
                    name='distributor',
                ),
                migrations.RemoveField(
                    model_name='wallet',
                    name='merchant',
                ),
                migrations.DeleteModel(
                    name='Journal',
                ),
                migrations.DeleteModel(
                    name='LedgerEntry',
                ),
                migrations.DeleteModel(
                    name='Wallet',
                ),
            ],
        ),
    ]
