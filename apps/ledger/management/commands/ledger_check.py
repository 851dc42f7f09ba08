from django.core.management.base import BaseCommand, CommandError

from apps.ledger.checks import ledger_breaches, ledger_stats
from apps.merchants.commands import merchant_id_option


class Command(BaseCommand):
    help = (
        "Verify every ledger invariant (balanced immutable journals, wallets equal to their "
        "entries, and the checks each app registers for its rows: commission records matching "
        "their legs, payments and refunds posted once, splits). Prints each breach and exits "
        "non-zero if there is any."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--merchant", help="check one merchant (its slug) instead of all")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        merchant_id = merchant_id_option(options["merchant"])
        breaches = ledger_breaches(merchant_id=merchant_id)
        for breach in breaches:
            self.stderr.write(breach)
        if breaches:
            raise CommandError(f"ledger check failed: {len(breaches)} breach(es)")
        stats = ledger_stats(merchant_id=merchant_id)
        counted = ", ".join(f"{count} {label}" for label, count in stats.items())
        self.stdout.write(f"ledger ok: {counted} checked")
