"""``manage.py restore``: a verified backup into a new database (apps/core/backups.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup (its .json manifest or .dump) into a NEW database on the same server: "
        "checks the checksum first and the restored row counts against the manifest after."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("backup", help="the backup's manifest (.json) or dump (.dump)")
        parser.add_argument("--into", required=True, help="name of the database to create")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            counts = backup_restore(manifest_path=Path(options["backup"]), database=options["into"])
        except (BackupError, OSError) as error:
            raise CommandError(f"restore failed: {error}") from error
        self.stdout.write(
            f"restore ok: {sum(counts.values())} rows in {len(counts)} tables into "
            f"{options['into']}, equal to the manifest"
        )
