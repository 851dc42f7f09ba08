"""``manage.py backup``: a consistent dump of the database with its manifest (apps/core/backups.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.backups import BackupError, backup_create, manifest_load


class Command(BaseCommand):
    help = (
        "Write a pg_dump -Fc archive of the database and a JSON manifest beside it (time, size, "
        "SHA-256, applied migrations, row counts of the same snapshot)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--dir",
            default=None,
            help="folder for the dump and its manifest (default: FENXIAO_BACKUP_DIR)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        directory = Path(options["dir"] or settings.FENXIAO_BACKUP_DIR)
        try:
            manifest_path = backup_create(directory=directory)
        except (BackupError, OSError) as error:
            raise CommandError(f"backup failed: {error}") from error
        manifest = manifest_load(manifest_path)
        self.stdout.write(
            f"backup ok: {manifest['path']} ({manifest['size_bytes']} bytes, sha256 "
            f"{manifest['sha256'][:12]}…, {sum(manifest['row_counts'].values())} rows in "
            f"{len(manifest['row_counts'])} tables); manifest {manifest_path}"
        )
