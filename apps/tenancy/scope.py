"""The one scope setter of row-level security (README, "Security model: row-level security").

Every merchant-owned table has a policy that lets a session see and write only the rows of the
merchant (or supplier) its settings name, or every row in the explicit platform scope
(``apps/tenancy/rls.py``). This module is the only code that sets those settings:

- ``tenant_scope(merchant)``: one merchant's rows (its staff's back office, its store's pages);
- ``supplier_scope(supplier)``: one supplier's rows and what it ships of merchants' orders;
- ``platform_scope(reason=…)``: every row, for the operator's pages and platform jobs; logged;
- ``user_scope(user)``: a signed-in person outside any tenant (only their own memberships and
  applications).

A scope is a context manager. It is kept in a context variable (each thread and task has its own)
and written to every database connection this thread has open, with ``set_config(…, false)``
(session level, because a request runs many transactions); on exit the previous scope is written
back, so a connection reused by the next request or task (``CONN_MAX_AGE``) never keeps a scope it
should not have: outside every scope its settings are empty, and the policies then match no row. A
connection opened inside a scope gets the scope when it connects (``connection_prepare``), and is
switched (``SET ROLE``) to the application role, which owns no table and cannot bypass the
policies. Migrations run as the owner (``owner_connection``).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("fenxiao.scope")

PLATFORM = "platform"
MERCHANT = "merchant"
SUPPLIER = "supplier"
USER = "user"
NONE = "none"

_SET_SCOPE_SQL = (
    "SELECT set_config('app.scope', %s, false), set_config('app.merchant_id', %s, false), "
    "set_config('app.supplier_id', %s, false), set_config('app.user_id', %s, false)"
)


class ScopeMissing(RuntimeError):
    """Work that reads or writes tenant rows started without a scope (a task that names no
    merchant and declares no platform scope): it fails instead of reading nothing (or everything)."""


@dataclass(frozen=True)
class Scope:
    kind: str
    merchant_id: int | None = None
    supplier_id: int | None = None
    user_id: int | None = None
    reason: str = ""

    def settings(self) -> tuple[str, str, str, str]:
        def text(value: int | None) -> str:
            return "" if value is None else str(int(value))

        return (
            self.kind if self.kind == PLATFORM else "",
            text(self.merchant_id),
            text(self.supplier_id),
            text(self.user_id),
        )

    def as_header(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "merchant_id": self.merchant_id,
            "supplier_id": self.supplier_id,
            "user_id": self.user_id,
            "reason": self.reason,
        }

    @classmethod
    def from_header(cls, header: dict[str, Any]) -> Scope:
        kind = header.get("kind")
        if kind not in (PLATFORM, MERCHANT, SUPPLIER, USER):
            raise ScopeMissing(f"a task carried an unknown scope: {header!r}")
        return cls(
            kind=kind,
            merchant_id=_optional_id(header.get("merchant_id")),
            supplier_id=_optional_id(header.get("supplier_id")),
            user_id=_optional_id(header.get("user_id")),
            reason=str(header.get("reason") or ""),
        )


def _optional_id(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


NO_SCOPE = Scope(kind=NONE)
_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "fenxiao_scope", default=None
)
# Only the test suite sets a process-wide default (tests/conftest.py): the platform scope in which
# test code builds its data. Requests and tasks under test replace it with their own scope.
_process_default: Scope | None = None
# While true (``owner_connection``: migrate), new connections stay the owner instead of switching
# to the application role.
_owner_depth = 0


def current_scope() -> Scope:
    return _current.get() or _process_default or NO_SCOPE


def set_process_default(scope: Scope | None) -> None:
    """The scope of code running outside every scope in this process (the test suite's setup)."""
    global _process_default
    _process_default = scope
    _apply(current_scope())


@contextmanager
def _entered(scope: Scope, *, written_on: str | None = None) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        _apply(scope, skip=written_on)
        yield scope
    finally:
        _current.reset(token)
        _apply(current_scope())


def tenant_scope(merchant: Any = None, *, merchant_id: int | None = None, user: Any = None):  # type: ignore[no-untyped-def]
    """One merchant's rows: its store's pages, its staff's back office, its tasks."""
    merchant_id = merchant_id if merchant_id is not None else getattr(merchant, "pk", merchant)
    if merchant_id is None:
        raise ScopeMissing("tenant_scope needs a merchant")
    return _entered(Scope(kind=MERCHANT, merchant_id=int(merchant_id), user_id=_user_id(user)))


def supplier_scope(supplier: Any = None, *, supplier_id: int | None = None, user: Any = None):  # type: ignore[no-untyped-def]
    """One supplier's rows, the catalogue it supplies and the parcels it ships."""
    supplier_id = supplier_id if supplier_id is not None else getattr(supplier, "pk", supplier)
    if supplier_id is None:
        raise ScopeMissing("supplier_scope needs a supplier")
    return _entered(Scope(kind=SUPPLIER, supplier_id=int(supplier_id), user_id=_user_id(user)))


def tenant_scope_found(sql: str, params: list[Any], *, user: Any = None):  # type: ignore[no-untyped-def]
    """The scope of the merchant whose id ``sql`` finds (one column, at most one row), or None when
    it finds none: the lookup and the writing of the scope's settings are one statement on the
    default connection's driver (a store's request pays one round trip for both, not two).
    """
    from django.db import connection

    if not rls_enforced() or not _is_tenant_connection(connection):
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else tenant_scope(merchant_id=row[0], user=user)
    user_id = _user_id(user)
    kind, _merchant, supplier, user_setting = Scope(
        kind=MERCHANT, merchant_id=0, user_id=user_id
    ).settings()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "SELECT found.id, set_config('app.scope', %s, false), "
            "set_config('app.merchant_id', found.id::text, false), "
            "set_config('app.supplier_id', %s, false), set_config('app.user_id', %s, false) "
            f"FROM ({sql}) AS found(id)",
            [kind, supplier, user_setting, *params],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return _entered(
        Scope(kind=MERCHANT, merchant_id=int(row[0]), user_id=user_id),
        written_on=connection.alias,
    )


def platform_scope(*, reason: str, user: Any = None):  # type: ignore[no-untyped-def]
    """Every merchant's rows: the operator's pages and the platform's jobs. Always logged."""
    if not reason:
        raise ValueError("platform_scope needs a reason")
    user_id = _user_id(user)
    logger.info("platform scope: %s (user %s)", reason, user_id if user_id is not None else "-")
    return _entered(Scope(kind=PLATFORM, user_id=user_id, reason=reason))


def user_scope(user: Any):  # type: ignore[no-untyped-def]
    """A signed-in person outside every tenant: their own memberships and applications only."""
    return _entered(Scope(kind=USER, user_id=_user_id(user)))


def no_scope():  # type: ignore[no-untyped-def]
    """Nothing of any tenant (a signed-out visitor outside every store)."""
    return _entered(NO_SCOPE)


def scoped(scope: Scope):  # type: ignore[no-untyped-def]
    """Re-enter a scope carried elsewhere (a task's header); platform scopes are logged again."""
    if scope.kind == PLATFORM:
        return platform_scope(reason=scope.reason or "carried platform scope", user=scope.user_id)
    return _entered(scope)


def _user_id(user: Any) -> int | None:
    if user is None:
        return None
    if isinstance(user, int):
        return user
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


# -- connections -----------------------------------------------------------------------------


def rls_enforced() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "FENXIAO_ROW_LEVEL_SECURITY", True))


def app_role() -> str:
    from django.conf import settings

    return str(getattr(settings, "FENXIAO_DB_APP_ROLE", "fenxiao_app"))


def _is_tenant_connection(connection: Any) -> bool:
    # "__no_db__" is Django's connection to the maintenance database (CREATE DATABASE for tests).
    return connection.vendor == "postgresql" and connection.alias != "__no_db__"


def _write(connection: Any, scope: Scope) -> None:
    raw = connection.connection
    if raw is None or getattr(raw, "closed", False):
        return
    if connection.in_atomic_block and connection.needs_rollback:
        # A broken transaction rolls back to where it began, scope settings included.
        return
    # On the driver's connection, not Django's cursor: the scope is not one of the page's
    # queries (django_assert_num_queries counts what the code under test asks for).
    with raw.cursor() as cursor:
        cursor.execute(_SET_SCOPE_SQL, scope.settings())


def _apply(scope: Scope, *, skip: str | None = None) -> None:
    from django.db import connections

    if not rls_enforced():
        return
    for connection in connections.all(initialized_only=True):
        if _is_tenant_connection(connection) and connection.alias != skip:
            _write(connection, scope)


def connection_prepare(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: switch to the application role and write the current scope."""
    if not _is_tenant_connection(connection) or not rls_enforced():
        return
    raw = connection.connection
    if _owner_depth == 0:
        role = app_role()
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s), "
                "to_regclass('django_migrations') IS NOT NULL",
                [role],
            )
            role_exists, migrated = cursor.fetchone()
            if not role_exists and not migrated:
                # A database nothing was migrated into holds no tenant's rows: commands that
                # connect before the first `migrate` (makemigrations --check, check) may run.
                return
            if not role_exists:
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured(
                    f"The database role {role!r} of row-level security does not exist yet: "
                    "run `manage.py migrate` first (it creates the role)."
                )
            cursor.execute(f'SET ROLE "{role}"')
    else:
        with raw.cursor() as cursor:
            cursor.execute("RESET ROLE")
    _write(connection, _owner_scope() if _owner_depth else current_scope())


def _owner_scope() -> Scope:
    return Scope(kind=PLATFORM, reason="migrate (owner)")


@contextmanager
def owner_connection(reason: str) -> Iterator[None]:
    """Connect as the tables' owner (migrations): every open connection of this thread is reset
    to the owner's role in the platform scope, and switched back on exit."""
    from django.db import connections

    global _owner_depth
    logger.info("owner connection: %s", reason)
    _owner_depth += 1
    opened = [
        c
        for c in connections.all(initialized_only=True)
        if _is_tenant_connection(c) and c.connection is not None
    ]
    try:
        for connection in opened:
            with connection.connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
            _write(connection, _owner_scope())
        yield
    finally:
        _owner_depth -= 1
        for connection in connections.all(initialized_only=True):
            if not _is_tenant_connection(connection) or connection.connection is None:
                continue
            if rls_enforced() and _owner_depth == 0:
                with connection.connection.cursor() as cursor:
                    cursor.execute(f'SET ROLE "{app_role()}"')
            _write(connection, current_scope())


# Commands that serve requests or run tasks set their scope per request or task, not per process.
SERVING_COMMANDS = frozenset({"runserver", "runworker", "celery", "daphne", "uvicorn"})


def command_scope(argv: list[str]):  # type: ignore[no-untyped-def]
    """``manage.py``'s scope: the logged platform scope for the operator's commands (checks,
    imports, seeding, key rotation), none for the commands that serve requests."""
    from contextlib import nullcontext

    name = argv[1] if len(argv) > 1 else "help"
    if name in SERVING_COMMANDS or name.startswith("-"):
        return nullcontext()
    return platform_scope(reason=f"manage.py {name}")
