from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from apps.core.money import ZERO, quantize_money
from apps.dropship.supply_backfill import supply_backfill
from apps.merchants.commands import merchant_id_option


class Command(BaseCommand):
    help = (
        "Post the suppliers' money of orders paid before it was kept in the ledger (supplied lines "
        "with no supplier's share): owed at payment, taken back by the refunds the supplier bore, "
        "released if the after-sale window has closed, as the live paths would have. One "
        "transaction per order; running it again posts nothing. Exits non-zero if an order needs "
        "a person."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show what would be posted, post nothing",
        )
        parser.add_argument("--merchant", help="one merchant (its slug) instead of all")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        merchant_id = merchant_id_option(options["merchant"])
        dry_run = options["dry_run"]
        done = refused = 0
        owed = taken_back = released = ZERO
        for result in supply_backfill(merchant_id=merchant_id, dry_run=dry_run):
            if result.refused:
                refused += 1
                self.stderr.write(
                    f"order {result.number} (merchant {result.merchant_id}): {result.refused}"
                )
                continue
            done += 1
            owed += result.owed
            taken_back += result.taken_back
            released += result.released
            self.stdout.write(
                f"order {result.number} (merchant {result.merchant_id}): "
                + _figures(result.owed, result.taken_back, result.released)
                + f", frozen {quantize_money(result.frozen)}"
            )
        verb = "would post" if dry_run else "posted"
        self.stdout.write(
            f"supply backfill {verb}: {done} order(s), " + _figures(owed, taken_back, released)
        )
        if refused:
            raise CommandError(f"supply backfill: {refused} order(s) need a person (see above)")


def _figures(owed: Decimal, taken_back: Decimal, released: Decimal) -> str:
    return (
        f"owed {quantize_money(owed)}, taken back {quantize_money(taken_back)}, "
        f"released {quantize_money(released)}"
    )
