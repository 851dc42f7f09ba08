"""The ledger's models, moved from apps.commissions with their tables: state only.

The tables ``commissions_journal``, ``commissions_ledgerentry`` and ``commissions_wallet`` (and
their triggers, commissions 0005) were created by the commissions migrations and stay.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('commissions', '0008_ledger_models_move_out'),
        ('distributors', '0006_programmesettings_refund_rate_days_and_more'),
        ('merchants', '0002_pending_application_slug_unique'),
        ('orders', '0003_cartitem_agency_distributor_and_more'),
        ('payments', '0005_sandboxpayout'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Journal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('payment', 'Payment received'), ('refund', 'Refund'), ('commission_earned', 'Commission earned (frozen)'), ('commission_released', 'Commission released'), ('commission_reversed', 'Commission reversed'), ('withdrawal_requested', 'Withdrawal requested'), ('withdrawal_returned', 'Withdrawal returned'), ('withdrawal_paid', 'Withdrawal paid'), ('adjustment', 'Adjustment')], max_length=32, verbose_name='kind')),
                        ('key', models.CharField(max_length=80, verbose_name='key')),
                        ('reference', models.CharField(blank=True, max_length=80, verbose_name='reference')),
                        ('memo', models.CharField(blank=True, max_length=255, verbose_name='memo')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orders.order')),
                        ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='payments.payment')),
                    ],
                    options={
                        'verbose_name': 'journal',
                        'verbose_name_plural': 'journals',
                        'db_table': 'commissions_journal',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='LedgerEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('account', models.CharField(choices=[('provider', 'Held at the payment provider'), ('merchant_payable', 'Owed to the merchant'), ('platform_fee', 'Platform fee'), ('tax_withheld', 'Tax withheld'), ('frozen', 'Frozen'), ('available', 'Available'), ('withdrawing', 'Being withdrawn'), ('withdrawn', 'Withdrawn')], max_length=24, verbose_name='account')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                        ('commission', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to='commissions.commissionrecord')),
                        ('distributor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to='distributors.distributor')),
                        ('journal', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='ledger.journal')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                    ],
                    options={
                        'verbose_name': 'ledger entry',
                        'verbose_name_plural': 'ledger entries',
                        'db_table': 'commissions_ledgerentry',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='Wallet',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('frozen', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='frozen')),
                        ('available', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='available')),
                        ('withdrawing', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='being withdrawn')),
                        ('withdrawn', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='withdrawn')),
                        ('distributor', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='wallet', to='distributors.distributor')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                    ],
                    options={
                        'verbose_name': 'wallet',
                        'verbose_name_plural': 'wallets',
                        'db_table': 'commissions_wallet',
                    },
                ),
                migrations.AddIndex(
                    model_name='journal',
                    index=models.Index(fields=['merchant', 'created_at'], name='journal_by_time'),
                ),
                migrations.AddConstraint(
                    model_name='journal',
                    constraint=models.UniqueConstraint(fields=('merchant', 'key'), name='journal_key_once'),
                ),
                migrations.AddIndex(
                    model_name='ledgerentry',
                    index=models.Index(fields=['distributor', 'account'], name='ledger_by_distributor'),
                ),
                migrations.AddIndex(
                    model_name='ledgerentry',
                    index=models.Index(fields=['merchant', 'account'], name='ledger_by_merchant_account'),
                ),
                migrations.AddConstraint(
                    model_name='ledgerentry',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('account__in', ['frozen', 'available', 'withdrawing', 'withdrawn']), ('distributor__isnull', False)), models.Q(('account__in', ['provider', 'merchant_payable', 'platform_fee', 'tax_withheld']), ('distributor__isnull', True)), _connector='OR'), name='ledger_entry_distributor_iff_distributor_account'),
                ),
            ],
        ),
    ]
