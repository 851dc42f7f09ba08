"""``manage.py import_distributors --merchant <slug> file.csv``: the bulk import from a shell."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.distributors.imports import ImportRefused, distributors_import
from apps.merchants.models import Merchant


class Command(BaseCommand):
    help = (
        "Import distributors with their uplines from a CSV file (see apps/distributors/imports.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="the store's slug")
        parser.add_argument("file", help="CSV file, UTF-8")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"no store with the slug {options['merchant']!r}")
        try:
            text = Path(options["file"]).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from None
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if options["no_progress"]:
                return
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="row", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            count = distributors_import(merchant=merchant, text=text, progress=progress)
        except ImportRefused as error:
            raise CommandError(error.message) from None
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"imported {count} distributors into {merchant.slug}")
