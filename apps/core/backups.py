"""Backups that are proven: a consistent ``pg_dump -Fc`` with a manifest, and a checked restore.

The dump and the manifest's row counts come from one database snapshot: a ``REPEATABLE READ``
transaction exports its snapshot (``pg_export_snapshot()``), counts every table in it, and
``pg_dump --snapshot`` dumps exactly that state while the site keeps writing. A restore checks the
archive's checksum against the manifest first, restores into a database that must not exist yet
(created here, so a restore can never overwrite live data), then counts the restored rows and
compares them with the manifest: a backup that does not restore to the same rows is refused.

Row-level security (apps/tenancy) is forced on every tenant table, so only a superuser or a role
with ``BYPASSRLS`` reads every row unasked. Any other role (the tables' owner when it is not a
superuser) dumps with the policies on, in the platform scope (``app.scope`` set when each
connection starts), and only once every table under row-level security is shown to have the
tenant policy that admits the platform scope: pg_dump's default (``row_security`` off) would fail
on the first such table, and ``--enable-row-security`` alone would silently dump no tenant row.

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

    def connect(self, database: str | None = None, *, platform: bool = False) -> Any:
        """A connection as this target's role; ``platform``: in the platform scope of row-level
        security from its first statement (what a role subject to the policies needs to see and
        write every merchant's rows)."""
        return psycopg2.connect(
            dbname=database or self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            options=PLATFORM_OPTIONS if platform else None,
        )


# The platform scope of row-level security (apps/tenancy/scope.py), set when a connection starts.
PLATFORM_OPTIONS = "-c app.scope=platform"
TENANT_POLICY = "fenxiao_tenant"


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


def run(command: list[str], target: Target, *, platform: bool = False) -> None:
    env = target.env()
    if platform:
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {PLATFORM_OPTIONS}".strip()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupError(
            f"{Path(command[0]).name} failed: {lines[-1] if lines else result.returncode}"
        )


def row_security_mode(cursor: Any) -> str:
    """How this role's dump sees every row: ``"bypass"`` (a superuser or ``BYPASSRLS``: the
    policies do not apply to it) or ``"platform"`` (the policies apply; the platform scope admits
    every row of every table under row-level security). Refuses a role for which some table's
    rows could stay hidden: a table under row-level security without the tenant policy, or with
    a restrictive policy."""
    cursor.execute(
        "SELECT rolsuper OR rolbypassrls, rolname FROM pg_roles WHERE rolname = current_user"
    )
    bypasses, role = cursor.fetchone()
    if bypasses:
        return "bypass"
    cursor.execute(
        """
        SELECT c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
          AND (NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                           AND p.polname = %s AND p.polpermissive AND p.polcmd = '*'
                           AND pg_get_expr(p.polqual, p.polrelid)
                               LIKE '%%current_setting(''app.scope''%%''platform''%%')
               OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                          AND NOT p.polpermissive))
        ORDER BY c.relname
        """,
        [TENANT_POLICY],
    )
    hidden = [row[0] for row in cursor.fetchall()]
    if hidden:
        raise BackupError(
            f"the role {role} is subject to row-level security and could not see every row of: "
            f"{', '.join(hidden[:10])} (no platform-scope policy, or a restrictive one); "
            "dump as a superuser or a role with BYPASSRLS"
        )
    return "platform"


def backup_create(*, directory: Path, target: Target | None = None) -> Path:
    """Dump the database into ``directory`` and write its manifest; returns the manifest's path."""
    target = target or Target.from_settings()
    directory.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    stem = f"{target.name}-{started:%Y%m%dT%H%M%S%fZ}"
    dump_path = directory / f"{stem}.dump"
    manifest_path = directory / f"{stem}.json"
    partial = directory / f"{stem}.dump.partial"

    snapshot_connection = target.connect(platform=True)
    try:
        snapshot_connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with snapshot_connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            row_security = row_security_mode(cursor)
            row_counts = table_row_counts(cursor)
            migrations = applied_migrations(cursor)
            # The snapshot lives while this transaction is open: pg_dump runs inside it.
            pg_dump = tool("pg_dump")
            policies_on = ["--enable-row-security"] if row_security == "platform" else []
            run(
                [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
                + policies_on
                + target.args()
                + ["-f", str(partial), target.name],
                target,
                platform=True,
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
        "row_security": row_security,
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
                platform=True,
            )
            # The dump carries no privileges (it restores into any cluster): the application
            # role's grants, and the policies' helper functions, come back the way ``migrate``
            # gives them (apps/tenancy: ``manage.py rls apply``), run against the new database.
            manage(["rls", "apply"], restored)
            check = restored.connect(platform=True)
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
