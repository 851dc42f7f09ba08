"""Backups: the dump and its manifest, refusals, and the restore drill."""

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from apps.core.backups import (
    Target,
    backup_create,
    connection_row_counts,
    manifest_load,
    table_row_counts,
)

ROOT = Path(__file__).resolve().parents[2]


def drop_database(name):
    maintenance = Target.from_settings().connect("postgres")
    maintenance.autocommit = True
    with maintenance.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    maintenance.close()


@pytest.fixture
def restore_name():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    yield name
    drop_database(name)


def test_manifest_describes_the_dump(transactional_db, merchant, tmp_path):
    manifest_path = backup_create(directory=tmp_path)

    manifest = manifest_load(manifest_path)
    dump = Path(manifest["path"])
    assert dump.read_bytes()[:5] == b"PGDMP"  # the custom format's magic
    assert manifest["size_bytes"] == dump.stat().st_size
    assert len(manifest["sha256"]) == 64
    applied = sorted(f"{m.app}.{m.name}" for m in MigrationRecorder.Migration.objects.all())
    assert manifest["migrations"] == applied
    assert manifest["row_counts"]["merchants_merchant"] == 1
    assert manifest["row_counts"] == connection_row_counts()


def test_a_tampered_dump_is_refused(transactional_db, tmp_path, restore_name):
    manifest_path = backup_create(directory=tmp_path)
    dump = Path(manifest_load(manifest_path)["path"])
    data = bytearray(dump.read_bytes())
    data[-1] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("restore", str(manifest_path), "--into", restore_name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [restore_name])
        assert cursor.fetchone() is None


def test_restore_refuses_an_existing_database(transactional_db, tmp_path):
    manifest_path = backup_create(directory=tmp_path)

    with pytest.raises(CommandError, match="exists: restore only into a new one"):
        call_command("restore", str(manifest_path), "--into", connection.settings_dict["NAME"])


def test_restore_refuses_what_is_not_a_manifest(tmp_path):
    bogus = tmp_path / "nothing.json"
    bogus.write_text(json.dumps({"hello": 1}))

    with pytest.raises(CommandError, match="is not a backup manifest"):
        call_command("restore", str(bogus), "--into", "never_created")


@pytest.mark.slow
def test_drill_seed_backup_restore_elsewhere_ledger_green(transactional_db, tmp_path, restore_name):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    before = connection_row_counts()
    assert before["orders_order"] > 0 and before["commissions_commissionrecord"] > 0

    call_command("backup", "--dir", str(tmp_path), stdout=io.StringIO())
    (manifest_path,) = tmp_path.glob("*.json")
    call_command("restore", str(manifest_path), "--into", restore_name, stdout=io.StringIO())

    restored = Target.from_settings(restore_name)
    check = restored.connect()
    with check.cursor() as cursor:
        assert table_row_counts(cursor) == before
    check.close()
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{restore_name}"
    if str(db["HOST"]).startswith("/"):
        url = f"postgres://{db['USER']}@/{restore_name}?host={db['HOST']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "ledger_check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ledger ok:")
