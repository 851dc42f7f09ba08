"""A real Celery worker process for tests.

The ``celery_worker`` fixture starts ``python -m celery -A config worker --pool solo`` as a
subprocess that uses the *test* database (so the test must use ``transactional_db``: the worker is
another process and sees only committed rows) and the test's Redis database as its broker. Tasks
that the test process enqueues with ``.delay()`` travel over real Redis to that worker; nothing is
eager.

    def test_settles(celery_worker, ...):
        order_complete(...)                     # enqueues on commit
        celery_worker.wait_until(lambda: CommissionRecord.objects.filter(...).exists())

A test that needs the worker to call back into a live server overrides ``celery_worker_site_url``::

    @pytest.fixture
    def celery_worker_site_url(live_server):
        return live_server.url
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
BACKEND_GONE_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1


def worker_database_url() -> str:
    """A DATABASE_URL for the database this test process is using right now (the test database)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(database.get("HOST") or "")
    port = str(database.get("PORT") or "")
    options: dict[str, Any] = dict(database.get("OPTIONS") or {})
    netloc = credentials
    if host.startswith("/"):
        # A unix-socket folder: libpq takes it as the ``host`` option (django-environ puts unknown
        # query parameters into OPTIONS).
        options.setdefault("host", host)
        if port:
            options.setdefault("port", port)
    else:
        netloc += host + (f":{port}" if port else "")
    url = f"postgres://{netloc}/{quote(str(database['NAME']), safe='')}"
    if options:
        url += "?" + urlencode({key: str(value) for key, value in options.items()})
    return url


def purge_broker() -> None:
    """Drop every queued and unacknowledged message of this Redis database (old runs' leftovers)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = [
            *client.scan_iter(match="celery*"),
            *client.scan_iter(match="unacked*"),
        ]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


try:  # resolved here, not in the forked child, where importing could deadlock
    _prctl: Any = ctypes.CDLL(None).prctl
except (OSError, AttributeError):  # not Linux: the fixture's teardown still stops the worker
    _prctl = None


def _die_with_parent() -> None:
    """In the child: have Linux SIGTERM the worker if pytest dies, so no orphan eats later tasks."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class CeleryWorker:
    """One real worker subprocess. ``start``/``stop``/``kill`` may be called repeatedly.

    ``pool``/``concurrency`` choose the worker's pool (``solo`` by default: one process);
    ``extra_env`` adds environment variables for the next ``start``. The worker runs in its own
    process group, so that ``kill`` takes its pool processes down with it.
    """

    def __init__(self, *, log_path: Path, database_url: str, site_url: str) -> None:
        from django.conf import settings

        self.log_path = log_path
        self.site_url = site_url
        self.application_name = f"fenxiao-test-worker-{uuid.uuid4().hex[:12]}"
        self.hostname = f"{self.application_name}@%h"
        separator = "&" if "?" in database_url else "?"
        self.database_url = f"{database_url}{separator}application_name={self.application_name}"
        self.process: subprocess.Popen[bytes] | None = None
        self.pool = "solo"
        self.concurrency = 1
        self.extra_env: dict[str, str] = {}
        self._log_file: Any = None
        self._log_offset = 0
        self._cwd = Path(settings.BASE_DIR)

    # -- process control -------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        from django.conf import settings

        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=self.database_url,
            REDIS_URL=settings.REDIS_URL,
            FENXIAO_SITE_URL=self.site_url,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start the worker and block until it reports ready (else fail the test with its log)."""
        if self.is_alive():
            return
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in _reap)
        self._log_offset = self.log_path.stat().st_size
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "--loglevel",
            "info",
            "--hostname",
            self.hostname,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=self._cwd,
            env=self.environment(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if _prctl is not None else None,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_alive():
                self._reap()
                pytest.fail(f"the Celery worker exited while starting:\n{self.log()}")
            if " ready." in self._log_since_start():
                return
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"the Celery worker was not ready within {timeout:.0f} s:\n{self.log()}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Warm shutdown (SIGTERM: finish the running task), then SIGKILL if it takes too long."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.process.wait(timeout=timeout)
        self._reap()

    def kill(self, *, wait_for_backends: bool = True) -> None:
        """Die at once, like a crashed machine: SIGKILL to the worker's whole process group (the
        main process and any pool processes); running tasks are neither finished nor acked.

        A backend blocked on a lock outlives its dead client until the lock is released; a test
        that holds one passes ``wait_for_backends=False``, releases it, then calls
        ``wait_for_backends_to_close``.
        """
        if self.process is None:
            return
        if self.process.poll() is None:
            self._kill_group()
            self.process.wait(timeout=STOP_TIMEOUT)
        self._reap(wait_for_backends=wait_for_backends)

    def _kill_group(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _reap(self, *, wait_for_backends: bool = True) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if wait_for_backends:
            self.wait_for_backends_to_close()

    def wait_for_backends_to_close(self) -> None:
        """Make sure no connection of the worker outlives it (it would block flush or DROP)."""
        from django.db import connection

        query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        deadline = time.monotonic() + BACKEND_GONE_TIMEOUT
        with connection.cursor() as cursor:
            while True:
                cursor.execute(query, [self.application_name])
                pids = [row[0] for row in cursor.fetchall()]
                if not pids:
                    return
                if time.monotonic() > deadline:
                    for pid in pids:
                        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    return
                time.sleep(0.05)

    # -- observing -------------------------------------------------------------------------
    def log(self) -> str:
        """Everything the worker wrote (stdout and stderr) since the fixture started it."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _log_since_start(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self._log_offset)
                return handle.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 30.0,
        interval: float = 0.1,
        message: str = "condition",
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy and return that; else fail."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if not self.is_alive():
                pytest.fail(f"the Celery worker died while waiting for {message}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{message} not met within {timeout:.0f} s; worker log:\n{self.log()}")
            time.sleep(interval)


@pytest.fixture
def celery_worker_site_url() -> str:
    """The site the worker calls back (sandbox notifications); a live_server test overrides it."""
    return "http://127.0.0.1:8000"


@pytest.fixture
def celery_worker(
    transactional_db: None, celery_worker_site_url: str, tmp_path: Path
) -> Iterator[CeleryWorker]:
    """A real Celery worker subprocess on the test database and the test Redis database."""
    purge_broker()
    worker = CeleryWorker(
        log_path=tmp_path / "celery-worker.log",
        database_url=worker_database_url(),
        site_url=celery_worker_site_url,
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        purge_broker()
