"""A real Chromium (Debian's package) driven by Playwright, against pytest-django's live server.

Fixtures:

- ``browser``: one headless Chromium for the test (function scope: Playwright's sync API runs an
  event loop in this thread for as long as it is open, which must not leak into other tests).
- ``new_page()``: a page in a *fresh* browser context (no cookies), phone-sized, locale en-US.
  Call it once per person in the story; each gets their own cookie jar.
- ``browser_page``: shorthand for one such page.
- ``screenshot(page, name)``: saves ``NN-name.png`` into the test's ``tmp_path``. When the test
  fails, every page still open is saved there as ``failure-N.png`` as well (and into
  ``$FENXIAO_BROWSER_SCREENSHOTS`` when that is set), and the folder is printed.
- ``celery_worker_site_url``: the worker posts its sandbox payment notifications to the live
  server; ``site_url`` makes the test process's own ``SITE_URL`` (share links, QR codes) point
  there too.
- ``asgi_live_server``: for pages that open WebSockets (the live rooms), which pytest-django's
  WSGI ``live_server`` cannot serve: a real daphne process on ``config.asgi`` (plus the static
  files, ``tests/support/asgi_static.py``) against the test database and the test Redis, so the
  test must commit (it uses ``transactional_db``). ``.url`` is its address; its log is printed
  when the test fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "locale": "en-US",
    "is_mobile": True,
    "has_touch": True,
}
DEFAULT_TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Remember each phase's report on the item so that fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: `make install` installs Debian's chromium package.")
    return path


@pytest.fixture
def browser(chromium_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """One headless Chromium.

    Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    synchronous, so Django's async-safety guard is relaxed for browser tests only.

    While that loop runs, asgiref keeps Django's database connections in context-local storage,
    apart from the thread's usual ones: the ORM calls made meanwhile open connections of their
    own. They are closed here, while the loop still runs; otherwise each would stay open for the
    rest of the session and make dropping the test database fail ("being accessed by other
    users").
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            connections.close_all()
            chromium.close()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable]:
    """Factory: a phone-sized page in a fresh browser context (its own cookies)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(**PHONE)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    try:
        if _failed(request):
            extra = os.environ.get("FENXIAO_BROWSER_SCREENSHOTS")
            number = 0
            for context in contexts:
                for page in context.pages:
                    number += 1
                    path = tmp_path / f"failure-{number}.png"
                    try:
                        page.screenshot(path=str(path), full_page=True)
                    except Exception as error:  # a dead page must not hide the failure
                        print(f"could not screenshot {page.url}: {error}")
                        continue
                    print(f"failure screenshot of {page.url}: {path}")
                    if extra:
                        shutil.copy(path, Path(extra) / path.name)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def browser_page(new_page: Callable) -> Any:
    """A phone-sized page in a fresh browser profile."""
    return new_page()


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, "name")`` → ``tmp_path/NN-name.png`` (full page), numbered in order."""
    taken: list[Path] = []

    def take(page: Any, name: str) -> Path:
        path = tmp_path / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


@pytest.fixture
def celery_worker_site_url(live_server: Any) -> str:
    """The worker's SITE_URL: its sandbox payment notifications go to the live server."""
    return live_server.url


@pytest.fixture
def site_url(live_server: Any, settings: Any) -> str:
    """This process's SITE_URL (share links, QR codes) points at the live server as well."""
    settings.SITE_URL = live_server.url
    return live_server.url


class AsgiLiveServer:
    """A daphne process serving the project (HTTP, WebSockets, static files) on a free port."""

    def __init__(self, *, log_path: Path) -> None:
        from django.conf import settings

        from tests.support.celery_worker import worker_database_url

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": worker_database_url(),  # the test database, where the test commits
            "REDIS_URL": settings.REDIS_URL,
            "FENXIAO_CHANNEL_REDIS_URL": settings.CHANNEL_REDIS_URL,
            "FENXIAO_SITE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
            + ["tests.support.asgi_static:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_listening(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"daphne exited at start:\n{self.log()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        pytest.fail(f"daphne did not listen on {self.port} within {seconds:.0f} s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-20_000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def asgi_live_server(
    transactional_db: None, request: pytest.FixtureRequest, tmp_path: Path, settings: Any
) -> Iterator[AsgiLiveServer]:
    """daphne on the test database: HTTP and WebSockets from one address (see the module doc).
    This process's ``SITE_URL`` points there too (share links)."""
    server = AsgiLiveServer(log_path=tmp_path / "daphne.log")
    try:
        server.wait_listening()
        settings.SITE_URL = server.url
        yield server
    finally:
        server.stop()
        if _failed(request):
            print(f"daphne log:\n{server.log()}")
