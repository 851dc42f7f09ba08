from django.core.management.base import BaseCommand, CommandError

from apps.marketing.checks import marketing_breaches
from apps.members.checks import points_breaches
from apps.merchants.commands import merchant_id_option


class Command(BaseCommand):
    help = (
        "Beside ledger_check: verify the points ledger (every balance equals its entries and its "
        "unspent lots) and the marketing centre (coupons issued = grants within the total, flash "
        "pools = left + held). Prints each breach and exits non-zero if there is any."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--merchant", help="check one merchant (its slug) instead of all")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        merchant_id = merchant_id_option(options["merchant"])
        breaches = points_breaches(merchant_id=merchant_id) + marketing_breaches(
            merchant_id=merchant_id
        )
        for breach in breaches:
            self.stderr.write(breach)
        if breaches:
            raise CommandError(f"marketing check failed: {len(breaches)} breach(es)")
        self.stdout.write("points and marketing ok")
