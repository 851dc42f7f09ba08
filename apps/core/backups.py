"""Backups that are proven: a consistent ``pg_dump -Fc`` with a manifest, and a checked restore.

The dump and the manifest's row counts come from one database snapshot: a ``REPEATABLE READ``
transaction exports its snapshot (``pg_export_snapshot()``), counts every table in it, and
``pg_dump --snapshot`` dumps exactly that state while the site keeps writing. A restore checks the
archive's checksum against the manifest first, restores into a database that must not exist yet
(created here, so a restore can never overwrite live data), then counts the restored rows and
compares them with the manifest: a backup that does not restore to the same rows is refused.

The client tools come from ``FENXIAO_PG_BIN`` when set, else from the PostgreSQL 16 bundled in the
``pgserver`` package (a newer ``pg_dump`` reads older servers), else from ``PATH``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
from django.conf import settings
from django.db import connection
from psycopg2 import sql

MANIFEST_VERSION = 1


class BackupError(Exception):
    """A backup or restore that cannot be done or proven; the message says why, in one line."""


@dataclass(frozen=True)
class Target:
    """Where a database is: what libpq needs, without the password in any argument list."""

    name: str
    user: str
    password: str
    host: str
    port: str

    @classmethod
    def from_settings(cls, name: str | None = None) -> Target:
        db = settings.DATABASES["default"]
        return cls(
            name=name or db["NAME"],
            user=db.get("USER") or "",
            password=db.get("PASSWORD") or "",
            host=db.get("HOST") or "",
            port=str(db.get("PORT") or ""),
        )

    def args(self) -> list[str]:
        args = []
        if self.host:
            args += ["-h", self.host]
        if self.port:
            args += ["-p", self.port]
        if self.user:
            args += ["-U", self.user]
        return args

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def url(self) -> str:
        """A ``DATABASE_URL`` for this database (a socket directory as the ``host`` parameter)."""
        user = quote(self.user, safe="")
        password = f":{quote(self.password, safe='')}" if self.password else ""
        credentials = f"{user}{password}@" if user else ""  # no user: libpq's default
        if self.host.startswith("/"):
            return f"postgres://{credentials}/{self.name}?host={quote(self.host, safe='')}"
        port = f":{self.port}" if self.port else ""
        return f"postgres://{credentials}{self.host or 'localhost'}{port}/{self.name}"

    def connect(self, database: str | None = None) -> Any:
        return psycopg2.connect(
            dbname=database or self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
        )


def tool(name: str) -> str:
    """The path of a PostgreSQL client program (``pg_dump``, ``pg_restore``)."""
    configured = os.environ.get("FENXIAO_PG_BIN")
    candidates = [Path(configured)] if configured else []
    try:
        import pgserver  # noqa: PLC0415 (optional: only the bundled tools need it)

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for folder in candidates:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client or set FENXIAO_PG_BIN")
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_row_counts(cursor: Any) -> dict[str, int]:
    """Rows of every ordinary table in the ``public`` schema, as this cursor's snapshot sees them."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    counts = {}
    for (table,) in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def applied_migrations(cursor: Any) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def manage(arguments: list[str], target: Target) -> None:
    """``manage.py`` with these arguments, against ``target`` instead of the configured database."""
    env = {**target.env(), "DATABASE_URL": target.url()}
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupError(
            f"manage.py {' '.join(arguments)} failed: {lines[-1] if lines else result.returncode}"
        )


def run(command: list[str], target: Target) -> None:
    result = subprocess.run(command, env=target.env(), capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupError(
            f"{Path(command[0]).name} failed: {lines[-1] if lines else result.returncode}"
        )


def backup_create(*, directory: Path, target: Target | None = None) -> Path:
    """Dump the database into ``directory`` and write its manifest; returns the manifest's path."""
    target = target or Target.from_settings()
    directory.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    stem = f"{target.name}-{started:%Y%m%dT%H%M%S%fZ}"
    dump_path = directory / f"{stem}.dump"
    manifest_path = directory / f"{stem}.json"
    partial = directory / f"{stem}.dump.partial"

    snapshot_connection = target.connect()
    try:
        snapshot_connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with snapshot_connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            row_counts = table_row_counts(cursor)
            migrations = applied_migrations(cursor)
            # The snapshot lives while this transaction is open: pg_dump runs inside it.
            pg_dump = tool("pg_dump")
            run(
                [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
                + target.args()
                + ["-f", str(partial), target.name],
                target,
            )
        snapshot_connection.rollback()
    finally:
        snapshot_connection.close()
    partial.rename(dump_path)

    version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "created_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "database": target.name,
        "server_version": server_version,
        "pg_dump": version,
        "format": "custom (pg_dump -Fc)",
        "file": dump_path.name,
        "size_bytes": dump_path.stat().st_size,
        "sha256": sha256(dump_path),
        "migrations": migrations,
        "row_counts": row_counts,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest_path


def manifest_load(path: Path) -> dict[str, Any]:
    """The manifest of a backup, given either the manifest or the dump beside it."""
    if path.suffix == ".dump":
        path = path.with_suffix(".json")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise BackupError(f"no manifest at {path}") from error
    except json.JSONDecodeError as error:
        raise BackupError(f"{path} is not a backup manifest: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("manifest_version") != MANIFEST_VERSION:
        raise BackupError(f"{path} is not a backup manifest of version {MANIFEST_VERSION}")
    manifest["path"] = str(path.parent / manifest["file"])
    return manifest


def backup_verify(manifest: dict[str, Any]) -> Path:
    """Check the dump's size and checksum against its manifest."""
    dump_path = Path(manifest["path"])
    if not dump_path.is_file():
        raise BackupError(f"the dump {dump_path} is missing")
    if (
        dump_path.stat().st_size != manifest["size_bytes"]
        or sha256(dump_path) != manifest["sha256"]
    ):
        raise BackupError(f"the dump {dump_path} does not match its manifest (size or checksum)")
    return dump_path


def backup_restore(*, manifest_path: Path, database: str, target: Target | None = None) -> dict:
    """Restore a verified backup into the new database ``database``; returns its row counts.

    Refuses a database that already exists. A restore that fails or restores different rows drops
    the database it created, so nothing half-restored is left behind.
    """
    manifest = manifest_load(manifest_path)
    dump_path = backup_verify(manifest)
    base = target or Target.from_settings()
    restored = Target(database, base.user, base.password, base.host, base.port)

    maintenance = base.connect("postgres")
    maintenance.autocommit = True
    try:
        with maintenance.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone():
                raise BackupError(f"the database {database} exists: restore only into a new one")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        try:
            run(
                [
                    tool("pg_restore"),
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    "-d",
                    database,
                ]
                + restored.args()
                + [str(dump_path)],
                restored,
            )
            # The dump carries no privileges (it restores into any cluster): the application
            # role's grants, and the policies' helper functions, come back the way ``migrate``
            # gives them (apps/tenancy: ``manage.py rls apply``), run against the new database.
            manage(["rls", "apply"], restored)
            check = restored.connect()
            try:
                with check.cursor() as cursor:
                    counts = table_row_counts(cursor)
            finally:
                check.close()
            if counts != manifest["row_counts"]:
                differ = sorted(
                    name
                    for name in set(counts) | set(manifest["row_counts"])
                    if counts.get(name) != manifest["row_counts"].get(name)
                )
                raise BackupError(f"restored rows differ from the manifest in: {', '.join(differ)}")
        except BaseException:
            with maintenance.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            raise
    finally:
        maintenance.close()
    return counts


def connection_row_counts() -> dict[str, int]:
    """Row counts of the database Django is connected to (for checks and tests)."""
    with connection.cursor() as cursor:
        return table_row_counts(cursor)
