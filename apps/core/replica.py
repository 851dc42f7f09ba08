"""Reads that scale out: a database router that sends safe page and API reads to a streaming replica.

With ``DATABASE_REPLICA_URL`` set, the settings add a ``replica`` database and install
``ReplicaRouter`` and ``ReplicaReadMiddleware``. A query goes to the replica only when all of
these hold, and to the primary otherwise:

- it is a read (every write goes to the primary, and so does every read made inside a
  transaction on the primary: ``select_for_update``, a service's check-then-write);
- it is made while a GET/HEAD/OPTIONS request is being answered (the middleware opens that scope;
  Celery tasks, management commands and the shell never read from the replica);
- the caller did not write in the last ``FENXIAO_REPLICA_READ_YOUR_WRITES_SECONDS``: a POST, PUT,
  PATCH or DELETE sets the ``fx_wrote`` cookie (browsers) and a cache key for the request's
  ``Authorization`` header (API clients, which may keep no cookies), so what they just changed is
  read back from where it was written;
- the replica answers and lags at most ``FENXIAO_REPLICA_MAX_LAG_SECONDS`` behind the primary:
  checked at most every ``FENXIAO_REPLICA_CHECK_SECONDS`` per process (the primary's current WAL
  position against the replica's replayed one, then the age of the last replayed transaction);
  a replica that is down or behind is left alone until a later check finds it well again.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
WROTE_COOKIE = "fx_wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ReadScope:
    """One safe request (or a block of code): may it read from the replica? Decided on its first
    read outside a transaction, then kept for the rest of the request."""

    request: HttpRequest | None
    decided: bool | None = None


_scope: contextvars.ContextVar[ReadScope | None] = contextvars.ContextVar(
    "fenxiao_replica_read_scope", default=None
)


@contextmanager
def replica_reads(request: HttpRequest | None = None) -> Iterator[None]:
    """Let reads in this block go to the replica (the middleware opens one per safe request)."""
    token = _scope.set(ReadScope(request=request))
    try:
        yield
    finally:
        _scope.reset(token)


def _writer_key(request: HttpRequest) -> str | None:
    """The cache key naming the API caller (its credentials, hashed), or None without any."""
    credentials = request.headers.get("Authorization")
    if not credentials:
        return None
    return "db-wrote:" + hashlib.blake2b(credentials.encode(), digest_size=16).hexdigest()


def _wrote_recently(request: HttpRequest) -> bool:
    if WROTE_COOKIE in request.COOKIES:
        return True
    key = _writer_key(request)
    return key is not None and cache.get(key) is not None


@dataclass
class ReplicaHealth:
    """Per process: is the replica usable, as of the last check?"""

    primary: str = PRIMARY
    replica: str = REPLICA
    checked_at: float = field(default=-1e9)
    healthy: bool = False
    lag_seconds: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def usable(self) -> bool:
        interval = settings.FENXIAO_REPLICA_CHECK_SECONDS
        if time.monotonic() - self.checked_at >= interval and self.lock.acquire(blocking=False):
            try:
                self.check()
            finally:
                self.lock.release()
        return self.healthy

    def check(self) -> None:
        self.checked_at = time.monotonic()
        try:
            self.lag_seconds = self.measure_lag()
        except DatabaseError as error:
            if self.healthy:
                logger.warning(
                    "replica %s unusable, reading from the primary: %s", self.replica, error
                )
            self.healthy, self.lag_seconds = False, None
            connections[self.replica].close()
            return
        fit = self.lag_seconds <= settings.FENXIAO_REPLICA_MAX_LAG_SECONDS
        if self.healthy and not fit:
            logger.warning(
                "replica %s lags %.1f s, reading from the primary", self.replica, self.lag_seconds
            )
        self.healthy = fit

    def measure_lag(self) -> float:
        """Seconds the replica is behind: 0 when it has replayed everything the primary wrote."""
        with connections[self.primary].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            (primary_lsn,) = cursor.fetchone()
        with connections[self.replica].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
                [primary_lsn],
            )
            in_recovery, caught_up, age = cursor.fetchone()
        if not in_recovery:
            raise DatabaseError(f"{self.replica} is not a replica (not in recovery)")
        if caught_up:
            return 0.0
        return float(age) if age is not None else float("inf")


class ReplicaRouter:
    """Writes and unsafe reads to the primary; safe request reads to a healthy replica."""

    def __init__(self, primary: str = PRIMARY, replica: str = REPLICA) -> None:
        self.primary, self.replica = primary, replica
        self.health = ReplicaHealth(primary=primary, replica=replica)

    def db_for_read(self, model, **hints) -> str:  # type: ignore[no-untyped-def]
        return self.replica if self._replica_allowed() else self.primary

    def db_for_write(self, model, **hints) -> str:  # type: ignore[no-untyped-def]
        return self.primary

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:  # type: ignore[no-untyped-def]
        # Both aliases hold the same rows: objects read from either relate freely.
        aliases = {self.primary, self.replica}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:  # type: ignore[no-untyped-def]
        # The replica follows the primary's schema through WAL; never migrate it.
        return db != self.replica

    def _replica_allowed(self) -> bool:
        scope = _scope.get()
        if scope is None or connections[self.primary].in_atomic_block:
            return False
        if scope.decided is None:
            wrote = scope.request is not None and _wrote_recently(scope.request)
            scope.decided = not wrote and self.health.usable()
        return scope.decided


class ReplicaReadMiddleware:
    """Opens the replica scope for safe requests; remembers writers for read-your-writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS:
            with replica_reads(request):
                return self.get_response(request)
        response = self.get_response(request)
        window = settings.FENXIAO_REPLICA_READ_YOUR_WRITES_SECONDS
        response.set_cookie(WROTE_COOKIE, "1", max_age=window, httponly=True, samesite="Lax")
        key = _writer_key(request)
        if key is not None:
            cache.set(key, 1, timeout=window)
        return response
