"""Through HTTP: the product as its users feel it — gunicorn, a Celery worker and many clients.

What runs: gunicorn with the production settings (``config.settings.prod``, ``config/gunicorn.conf.py``,
WhiteNoise serving the collected, compressed static files; the sandbox payment provider enabled
explicitly with ``FENXIAO_PAYMENT_PROVIDERS=sandbox``), a real Celery worker (prefork) that sends
the sandbox provider's signed payment notifications back to gunicorn, and an asyncio HTTP client
(aiohttp, one cookie jar per simulated person) on the same machine — so the client's own CPU is
taken from the same two cores, as it would be for a load balancer's health, not for free.

The load, over the demo store (``seed_demo``) with 32 extra consumers bound to a distributor:

- ``catalogue`` and ``product``: signed-out visitors (each client keeps its cookies, as browsers do);
- ``checkout``: a signed-in consumer opens a product, adds a SKU to the cart, opens the checkout,
  places the order, presses Pay, confirms on the sandbox page, and polls the order page until the
  notification (sent by the worker to ``/pay/notify/sandbox/``) has marked it paid;
- ``earnings``: a distributor's earnings page; ``api``: token-authenticated API reads (the
  distributor's earnings and the store's products).

Phases: each page kind alone from 8 clients (the targets are read there), then the mixed load from
8 and from 32 clients, then checkouts alone from 8 clients. In the same run, the same work in this
process without HTTP: pages through Django's test client (one thread), checkouts through the
services the views call (cart_add_item → order_place_from_cart → payment_start → the sandbox's
record → payment_handle_notification). Ratio = HTTP figure ÷ in-process figure.

Runs against its own throwaway database ``<DATABASE_URL's name>_bench_http`` (created, migrated,
dropped unless ``--keep-db``) and a cache key prefix of its own; it purges the Celery queue of the
Redis database in ``REDIS_URL`` before and after (use one no other worker listens to).

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/through_http.py [--seconds 8]

Targets (8 clients, each kind alone): catalogue and product ≥ 500 requests/s with p95 ≤ 25 ms;
earnings p95 ≤ 40 ms; checkouts through HTTP ≥ 0.15 of the in-process checkouts/s; 0 errors
everywhere. Errors exit 1; missed timings exit 1 only with ``--strict`` (they move with the load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from order_placement import create_database, drop_database  # noqa: E402

STORE = "demo-tea"
CONSUMERS = 32
TARGET_PAGE_RPS = 500
TARGET_PAGE_P95_MS = 25.0
TARGET_EARNINGS_P95_MS = 40.0
TARGET_CHECKOUT_RATIO = 0.15
MIXED_WEIGHTS = {"catalogue": 30, "product": 40, "earnings": 10, "api": 10, "checkout": 10}
PHASES = ("catalogue", "product", "earnings", "api", "mixed", "checkout")
PAID_POLL_SECONDS = 0.1
PAID_TIMEOUT_SECONDS = 30.0
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
EXPECTED_TOTAL = re.compile(r'name="expected_total" value="([^"]+)"')
SKU_RADIO = re.compile(r'<input type="radio" name="sku" value="(\d+)"(?: checked)?>')
FORM_ERRORS = re.compile(r'data-test="form-errors">(.*?)</div>', re.S)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench_database_url(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    import environ

    name = environ.Env.db_url_config(url)["NAME"] + "_bench_http"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name)), name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the data --------------------------------------------------------------------------------


class Fixture:
    """The demo store, plenty of stock, 32 bound consumers; sessions and tokens made in-process
    (``force_login``: the password hashers of production would spend seconds per sign-in)."""

    def __init__(self) -> None:
        import contextlib
        import io

        from django.core.management import call_command
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from apps.accounts.models import User
        from apps.distributors.models import Distributor
        from apps.marketing.models import FlashSale
        from apps.merchants.models import Merchant
        from apps.products.models import Product, Sku
        from apps.programme.binding import customer_bind

        # Its progress bar and the e-mails it sends (console backend) are not the bench's output.
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            call_command("seed_demo", "--force", stdout=io.StringIO())
        self.merchant = Merchant.objects.get(slug=STORE)
        # The store's own goods (drop-shipped ones draw on their supplier's pool), never sold out.
        own = Sku.objects.filter(merchant=self.merchant, supply_sku__isnull=True)
        own.update(stock=10_000_000)
        self.sku_ids = list(own.filter(is_active=True).values_list("pk", flat=True))
        self.product_ids = list(
            Product.objects.filter(
                merchant=self.merchant, is_active=True, supply_product__isnull=True
            )
            .filter(skus__is_active=True)
            .distinct()
            .values_list("pk", flat=True)
        )
        # What a checkout buys: a flash sale's SKU sells only through its pool and at most its
        # per-person limit (1–2 in the demo) to each consumer, so a client buying again and again
        # would be refused from its third order on (bench/flash_sale.py measures the sale itself).
        flash_products = FlashSale.objects.filter(merchant=self.merchant).values("sku__product_id")
        self.checkout_product_ids = list(
            Product.objects.filter(pk__in=self.product_ids)
            .exclude(pk__in=flash_products)
            .values_list("pk", flat=True)
        )
        self.checkout_sku_ids = list(
            own.filter(is_active=True, product_id__in=self.checkout_product_ids).values_list(
                "pk", flat=True
            )
        )
        inviter = Distributor.objects.get(merchant=self.merchant, user__username="tea_d4")
        self.consumers = []
        for index in range(CONSUMERS):
            user = User.objects.create_user(f"bench_c{index}", phone=f"1380000{index:04d}")
            customer_bind(merchant=self.merchant, customer=user, invite_code=inviter.invite_code)
            self.consumers.append(user)
        self.distributors = list(
            User.objects.filter(username__in=["tea_d2", "tea_d3", "tea_d4"]).order_by("username")
        )

        def session_of(user: User) -> str:
            client = Client()
            client.force_login(user)
            return client.cookies["sessionid"].value

        self.consumer_sessions = [session_of(user) for user in self.consumers]
        self.distributor_sessions = [session_of(user) for user in self.distributors]
        self.distributor_tokens = [
            Token.objects.get_or_create(user=user)[0].key for user in self.distributors
        ]


# --- the servers -----------------------------------------------------------------------------


class Servers:
    """collectstatic, gunicorn and a Celery worker with the production settings."""

    def __init__(self, *, database_url: str, port: int, worker_processes: int, log_dir: Path):
        self.port = port
        self.worker_processes = worker_processes
        self.log_dir = log_dir
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.prod",
            DATABASE_URL=database_url,
            FENXIAO_PAYMENT_PROVIDERS="sandbox",
            FENXIAO_SITE_URL=f"http://127.0.0.1:{port}",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on the loopback: cookies without the Secure flag, no redirect to HTTPS
            # (in production the TLS proxy in front answers plain HTTP itself).
            DJANGO_SECURE_COOKIES="false",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_HSTS_SECONDS="0",
            FENXIAO_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        self.processes: list[tuple[str, subprocess.Popen[bytes], object]] = []

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self._spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--config",
                "config/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
        )
        self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.worker_processes),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"bench-http-{os.getpid()}@%h",
            ],
        )
        deadline = time.monotonic() + 60
        while True:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not listen within 60 s") from None
                time.sleep(0.2)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_dir / f"http-{name}.log", "wb")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process, log))

    def check_alive(self) -> None:
        for name, process, _log in self.processes:
            if process.poll() is not None:
                text = (self.log_dir / f"http-{name}.log").read_text()[-4000:]
                raise SystemExit(f"{name} died:\n{text}")

    def stop(self) -> None:
        for _name, process, log in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()  # type: ignore[attr-defined]
        self.processes = []


def purge_celery_queue() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = [*client.scan_iter(match="celery*"), *client.scan_iter(match="unacked*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- the client ------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.journeys: list[float] = []
        self.paid_waits: list[float] = []

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}")


class Person:
    """One simulated person: a cookie jar (and, for the API, a token)."""

    def __init__(self, base: str, cookies: dict[str, str] | None, token: str | None = None):
        import aiohttp

        self.base = base
        self.token = token
        jar = aiohttp.CookieJar(unsafe=True)
        if cookies:
            jar.update_cookies(cookies)
        headers = {"Authorization": f"Token {token}"} if token else {}
        self.session = aiohttp.ClientSession(
            cookie_jar=jar,
            headers=headers,
            connector=aiohttp.TCPConnector(limit=1),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def request(
        self,
        recorder: Recorder,
        kind: str,
        method: str,
        path: str,
        *,
        expect: int,
        data: dict | None = None,
    ) -> tuple[str, str]:
        """(body, Location) of one request; a status other than ``expect`` is an error."""
        start = time.perf_counter()
        try:
            async with self.session.request(
                method,
                self.base + path,
                data=data,
                allow_redirects=False,
                headers={"Referer": self.base + path} if method == "POST" else None,
            ) as response:
                body = await response.text()
                status = response.status
                location = response.headers.get("Location", "")
        except Exception as error:  # noqa: BLE001 (every failure counts as an error)
            recorder.error(kind, f"{method} {path}: {error!r}")
            return "", ""
        recorder.latencies[kind].append((time.perf_counter() - start) * 1000)
        if status != expect:
            shown = FORM_ERRORS.search(body)
            why = re.sub(r"<[^>]+>", " ", shown[1]).strip() if shown else body[:200]
            recorder.error(kind, f"{method} {path}: {status} (expected {expect}) {why!r}")
            return "", ""
        return body, location

    async def close(self) -> None:
        await self.session.close()


class Actor:
    """What one client does: it owns a signed-out visitor, a consumer, a distributor and an API
    token, and picks its next action by the phase's weights."""

    def __init__(self, base: str, fixture_data: dict, index: int, seed: int) -> None:
        self.random = random.Random(seed)
        self.products = fixture_data["product_ids"]
        self.checkout_products = fixture_data["checkout_product_ids"]
        self.visitor = Person(base, None)
        self.consumer = Person(base, {"sessionid": fixture_data["consumer_sessions"][index]})
        distributor = index % len(fixture_data["distributor_sessions"])
        self.distributor = Person(
            base, {"sessionid": fixture_data["distributor_sessions"][distributor]}
        )
        self.api = Person(base, None, token=fixture_data["distributor_tokens"][distributor])
        self.index = index

    async def close(self) -> None:
        for person in (self.visitor, self.consumer, self.distributor, self.api):
            await person.close()

    async def act(self, kind: str, recorder: Recorder) -> None:
        if kind == "catalogue":
            await self.visitor.request(recorder, "catalogue", "GET", f"/s/{STORE}/", expect=200)
        elif kind == "product":
            product = self.random.choice(self.products)
            await self.visitor.request(
                recorder, "product", "GET", f"/s/{STORE}/p/{product}/", expect=200
            )
        elif kind == "earnings":
            await self.distributor.request(
                recorder, "earnings", "GET", f"/s/{STORE}/d/", expect=200
            )
        elif kind == "api":
            path = self.random.choice(
                [
                    f"/api/v1/stores/{STORE}/distributor/earnings/",
                    f"/api/v1/stores/{STORE}/products/",
                ]
            )
            await self.api.request(recorder, "api", "GET", path, expect=200)
        elif kind == "checkout":
            await self.checkout(recorder)

    async def checkout(self, recorder: Recorder) -> None:
        start = time.perf_counter()
        person = self.consumer
        product = self.random.choice(self.checkout_products)
        page, _ = await person.request(
            recorder, "checkout:product", "GET", f"/s/{STORE}/p/{product}/", expect=200
        )
        if not page:
            return
        skus, token = SKU_RADIO.findall(page), CSRF_INPUT.search(page)
        if not skus or token is None:
            recorder.error("checkout:product", "no SKU or no CSRF token on the product page")
            return
        _, location = await person.request(
            recorder,
            "checkout:add",
            "POST",
            f"/s/{STORE}/p/{product}/",
            expect=302,
            data={"csrfmiddlewaretoken": token[1], "sku": skus[0], "quantity": "1"},
        )
        if not location:
            return
        page, _ = await person.request(
            recorder, "checkout:form", "GET", f"/s/{STORE}/checkout/", expect=200
        )
        if not page:
            return
        token, total = CSRF_INPUT.search(page), EXPECTED_TOTAL.search(page)
        if token is None or total is None:
            recorder.error("checkout:form", "no CSRF token or total on the checkout page")
            return
        _, order_url = await person.request(
            recorder,
            "checkout:place",
            "POST",
            f"/s/{STORE}/checkout/",
            expect=302,
            data={
                "csrfmiddlewaretoken": token[1],
                "expected_total": total[1],
                "recipient_name": "压测",
                "recipient_phone": "13800000000",
                "shipping_address": "杭州市西湖区龙井路 1 号",
                "note": "",
            },
        )
        if not order_url:
            return  # refused or failed: recorded once, by the request
        if not order_url.startswith(f"/s/{STORE}/orders/"):
            recorder.error("checkout:place", f"placed order went to {order_url!r}")
            return
        _, pay_url = await person.request(
            recorder,
            "checkout:pay",
            "POST",
            order_url + "pay/",
            expect=302,
            data={"csrfmiddlewaretoken": token[1], "provider": "sandbox"},
        )
        if not pay_url:
            return
        if not pay_url.startswith("/pay/sandbox/"):
            recorder.error("checkout:pay", f"pay went to {pay_url!r}")
            return
        page, _ = await person.request(recorder, "checkout:sandbox", "GET", pay_url, expect=200)
        if not page:
            return
        token = CSRF_INPUT.search(page)
        if token is None:
            recorder.error("checkout:sandbox", "no CSRF token on the sandbox page")
            return
        _, confirming = await person.request(
            recorder,
            "checkout:confirm",
            "POST",
            pay_url,
            expect=302,
            data={"csrfmiddlewaretoken": token[1]},
        )
        if not confirming:
            return
        confirmed = time.perf_counter()
        while True:
            page, _ = await person.request(recorder, "checkout:order", "GET", order_url, expect=200)
            if not page:
                return
            if 'data-status="paid"' in page:
                break
            if time.perf_counter() - confirmed > PAID_TIMEOUT_SECONDS:
                recorder.error("checkout:order", f"{order_url} not paid within the timeout")
                return
            await asyncio.sleep(PAID_POLL_SECONDS)
        done = time.perf_counter()
        recorder.paid_waits.append((done - confirmed) * 1000)
        recorder.journeys.append((done - start) * 1000)


async def drive(
    *, base: str, fixture_data: dict, clients: int, seconds: float, weights: dict[str, int]
) -> dict:
    recorder = Recorder()
    actors = [Actor(base, fixture_data, index, seed=index) for index in range(clients)]
    kinds, cumulative = list(weights), list(weights.values())
    stop_at = time.perf_counter() + seconds

    async def loop(actor: Actor) -> None:
        while time.perf_counter() < stop_at:
            kind = actor.random.choices(kinds, weights=cumulative)[0]
            await actor.act(kind, recorder)

    cpu_start, start = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(loop(actor) for actor in actors))
    finally:
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        await asyncio.gather(*(actor.close() for actor in actors))
    per_kind = {}
    for kind, values in sorted(recorder.latencies.items()):
        per_kind[kind] = {
            "requests": len(values),
            "requests_per_second": len(values) / elapsed,
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
            "errors": recorder.errors.get(kind, 0),
        }
    for kind, count in recorder.errors.items():
        per_kind.setdefault(kind, {"requests": 0, "requests_per_second": 0.0, "errors": count})
    total = sum(len(values) for values in recorder.latencies.values())
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": total,
        "requests_per_second": total / elapsed,
        "errors": sum(recorder.errors.values()),
        "error_samples": recorder.error_samples,
        "per_kind": per_kind,
        "checkouts": len(recorder.journeys),
        "checkouts_per_second": len(recorder.journeys) / elapsed,
        "checkout_p50_ms": percentile(recorder.journeys, 0.5),
        "checkout_p95_ms": percentile(recorder.journeys, 0.95),
        "paid_wait_p50_ms": percentile(recorder.paid_waits, 0.5),
        "paid_wait_p95_ms": percentile(recorder.paid_waits, 0.95),
        "client_cpu_share": cpu / elapsed,
    }


def phase(base: str, fixture_data: dict, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    return asyncio.run(drive(base=base, fixture_data=fixture_data, **kwargs))


# --- the same work in process ------------------------------------------------------------------


def in_process_pages(fixture: Fixture, seconds: float) -> dict:
    """Requests/s per page kind through Django's test client, one thread, no HTTP server."""
    from django.test import Client

    visitor = Client()
    distributor = Client()
    distributor.cookies["sessionid"] = fixture.distributor_sessions[0]
    api = Client(headers={"Authorization": f"Token {fixture.distributor_tokens[0]}"})
    chooser = random.Random(1)
    paths = {
        "catalogue": lambda: (visitor, f"/s/{STORE}/"),
        "product": lambda: (visitor, f"/s/{STORE}/p/{chooser.choice(fixture.product_ids)}/"),
        "earnings": lambda: (distributor, f"/s/{STORE}/d/"),
        "api": lambda: (
            api,
            chooser.choice(
                [
                    f"/api/v1/stores/{STORE}/distributor/earnings/",
                    f"/api/v1/stores/{STORE}/products/",
                ]
            ),
        ),
    }
    result = {}
    for kind, pick in paths.items():
        # Untimed: the process's first request imports the URLconf and compiles the templates
        # (seconds on a loaded machine), which is not what a page costs.
        client, path = pick()
        client.get(path)
        count, stop_at = 0, time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < stop_at:
            client, path = pick()
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"in process: GET {path} answered {response.status_code}")
            count += 1
        result[kind] = {"requests_per_second": count / (time.perf_counter() - start)}
    return result


def profile_pages(fixture: Fixture, requests: int) -> dict[str, str]:
    """cProfile of ``requests`` in-process requests of each page kind (after the timed ones, so
    caches are warm): the 45 most expensive functions by cumulative time and the 20 by own
    time, per kind."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    visitor = Client()
    distributor = Client()
    distributor.cookies["sessionid"] = fixture.distributor_sessions[0]
    api = Client(headers={"Authorization": f"Token {fixture.distributor_tokens[0]}"})
    paths = {
        "catalogue": (visitor, f"/s/{STORE}/"),
        "product": (visitor, f"/s/{STORE}/p/{fixture.product_ids[0]}/"),
        "earnings": (distributor, f"/s/{STORE}/d/"),
        "api": (api, f"/api/v1/stores/{STORE}/distributor/earnings/"),
    }
    profiles = {}
    for kind, (client, path) in paths.items():
        client.get(path)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(20)
        profiles[kind] = out.getvalue()
    return profiles


def in_process_checkouts(fixture: Fixture, count: int) -> dict:
    """The checkout journey's services, one after another: what the views and the worker call."""
    from django.utils import timezone

    from apps.orders.services import Recipient, cart_add_item, order_place_from_cart
    from apps.payments.models import Payment
    from apps.payments.providers import provider_get
    from apps.payments.providers.sandbox import (
        SIGNATURE_HEADER,
        sandbox_notification_body,
        sandbox_sign,
    )
    from apps.payments.services import payment_handle_notification, payment_start

    chooser = random.Random(2)
    skus = fixture.checkout_sku_ids  # as the HTTP checkouts: no flash-sale SKU (per-person limit)
    provider = provider_get("sandbox")
    recipient = Recipient(name="压测", phone="13800000000", address="杭州市西湖区龙井路 1 号")
    start = time.perf_counter()
    for index in range(count):
        customer = fixture.consumers[index % len(fixture.consumers)]
        cart_add_item(
            merchant=fixture.merchant, customer=customer, sku_id=chooser.choice(skus), quantity=1
        )
        order = order_place_from_cart(
            merchant=fixture.merchant, customer=customer, recipient=recipient, note=""
        )
        payment = payment_start(
            merchant=fixture.merchant, customer=customer, order_id=order.pk, provider="sandbox"
        )
        trade_no = provider.record_payment(payment, "SBX" + secrets.token_hex(12).upper())
        payment = Payment.objects.get(pk=payment.pk)
        body = sandbox_notification_body(
            out_trade_no=payment.out_trade_no,
            provider_trade_no=trade_no,
            amount=payment.amount,
            paid_at=timezone.now(),
        )
        payment_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )
    elapsed = time.perf_counter() - start
    return {"checkouts": count, "checkouts_per_second": count / elapsed}


# --- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, bench_url: str) -> dict:
    from django.db import connection

    load = {"before": os.getloadavg()[0]}
    fixture = Fixture()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fixture_data = {
        "product_ids": fixture.product_ids,
        "checkout_product_ids": fixture.checkout_product_ids,
        "consumer_sessions": fixture.consumer_sessions,
        "distributor_sessions": fixture.distributor_sessions,
        "distributor_tokens": fixture.distributor_tokens,
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    servers = Servers(
        database_url=bench_url,
        port=port,
        worker_processes=args.worker_processes,
        log_dir=ROOT / "bench" / "results",
    )
    purge_celery_queue()
    servers.start()
    phases: dict[str, dict] = {}
    try:
        print("  warming up…", flush=True)
        phase(base, fixture_data, clients=8, seconds=3, weights=MIXED_WEIGHTS)
        for kind in [
            kind for kind in ("catalogue", "product", "earnings", "api") if kind in args.only
        ]:
            print(f"  {kind} alone, 8 clients…", flush=True)
            phases[kind] = phase(
                base, fixture_data, clients=8, seconds=args.seconds, weights={kind: 1}
            )
            servers.check_alive()
        for clients in (8, 32) if "mixed" in args.only else ():
            print(f"  mixed load, {clients} clients…", flush=True)
            phases[f"mixed_{clients}"] = phase(
                base, fixture_data, clients=clients, seconds=args.seconds, weights=MIXED_WEIGHTS
            )
            servers.check_alive()
        if "checkout" in args.only:
            print("  checkouts alone, 8 clients…", flush=True)
            phases["checkout"] = phase(
                base, fixture_data, clients=8, seconds=args.seconds, weights={"checkout": 1}
            )
            servers.check_alive()
        load["after_http"] = os.getloadavg()[0]
    finally:
        servers.stop()
        purge_celery_queue()
    print("  the same work in process…", flush=True)
    pages = in_process_pages(fixture, seconds=min(args.seconds, 3))
    checkouts = (
        in_process_checkouts(fixture, args.in_process_checkouts)
        if "checkout" in args.only
        else None
    )
    profiles = profile_pages(fixture, args.profile) if args.profile else None
    load["after"] = os.getloadavg()[0]
    return {
        "benchmark": "through_http",
        "profiles": profiles,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gunicorn": gunicorn_settings(),
        "worker_processes": args.worker_processes,
        "phases": phases,
        "in_process": {"pages": pages, "checkouts": checkouts},
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1min": load,
    }


def gunicorn_settings() -> dict:
    namespace: dict = {}
    exec((ROOT / "config" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 (our file)
    return {key: namespace.get(key) for key in ("workers", "worker_class", "threads")}


def report(result: dict) -> tuple[str, bool, bool]:
    phases, in_process = result["phases"], result["in_process"]
    lines = [
        "",
        "Through HTTP — gunicorn (production settings) + Celery worker + aiohttp client, "
        "one machine",
        f"  machine: {result['cpus']} CPUs, 1-min load average "
        + ", ".join(
            f"{key.replace('_', ' ')} {value:.1f}"
            for key, value in result["load_average_1min"].items()
        ),
        f"  gunicorn: {result['gunicorn']}; Celery worker: {result['worker_processes']} processes",
        "",
        f"  {'phase / kind':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'in-proc/s':>11}{'ratio':>7}",
    ]
    errors = 0
    for name, data in phases.items():
        lines.append(
            f"  {name + ' (' + str(data['clients']) + ' clients)':<30}"
            f"{data['requests_per_second']:>9.0f}{'':>27}{data['errors']:>8}"
            f"   client CPU {data['client_cpu_share']:.0%}"
        )
        errors += data["errors"]
        for kind, figures in data["per_kind"].items():
            own = (
                in_process["pages"].get(kind, {}).get("requests_per_second")
                if name == kind
                else None
            )
            tail = f"{own:>11.0f}{figures['requests_per_second'] / own:>7.2f}" if own else ""
            lines.append(
                f"    {kind:<28}{figures['requests_per_second']:>9.0f}"
                f"{figures.get('p50_ms', 0):>9.1f}{figures.get('p95_ms', 0):>9.1f}"
                f"{figures.get('p99_ms', 0):>9.1f}{figures['errors']:>8}{tail}"
            )
        if data["checkouts"]:
            lines.append(
                f"    {'→ checkouts (to paid)':<28}{data['checkouts_per_second']:>9.1f}"
                f"{data['checkout_p50_ms']:>9.0f}{data['checkout_p95_ms']:>9.0f}"
                f"   notification wait p50 {data['paid_wait_p50_ms']:.0f} ms, "
                f"p95 {data['paid_wait_p95_ms']:.0f} ms"
            )
    for sample in (s for data in phases.values() for s in data["error_samples"]):
        lines.append(f"  error: {sample}")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    checks = []
    for kind in ("catalogue", "product"):
        if kind not in phases:
            continue
        figures = phases[kind]["per_kind"][kind]
        ok = (
            figures["requests_per_second"] >= TARGET_PAGE_RPS
            and figures["p95_ms"] <= TARGET_PAGE_P95_MS
        )
        checks.append(ok)
        lines.append(
            f"  {kind}: {figures['requests_per_second']:.0f} req/s, p95 {figures['p95_ms']:.1f} ms"
            f" (target ≥ {TARGET_PAGE_RPS} req/s, p95 ≤ {TARGET_PAGE_P95_MS:g} ms: {verdict(ok)})"
        )
    if "earnings" in phases:
        earnings = phases["earnings"]["per_kind"]["earnings"]
        ok = earnings["p95_ms"] <= TARGET_EARNINGS_P95_MS
        checks.append(ok)
        lines.append(
            f"  earnings: p95 {earnings['p95_ms']:.1f} ms (target ≤ {TARGET_EARNINGS_P95_MS:g} ms:"
            f" {verdict(ok)})"
        )
    if "checkout" in phases:
        checkout_ratio = (
            phases["checkout"]["checkouts_per_second"]
            / in_process["checkouts"]["checkouts_per_second"]
        )
        result["checkout_ratio"] = checkout_ratio
        ok = checkout_ratio >= TARGET_CHECKOUT_RATIO
        checks.append(ok)
        lines.append(
            f"  checkouts: {phases['checkout']['checkouts_per_second']:.1f}/s through HTTP, "
            f"{in_process['checkouts']['checkouts_per_second']:.1f}/s in process: ratio "
            f"{checkout_ratio:.2f} (target ≥ {TARGET_CHECKOUT_RATIO}: {verdict(ok)})"
        )
    lines.append(f"  errors: {errors} (target 0: {verdict(errors == 0)})")
    return "\n".join(lines), errors == 0, all(checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--worker-processes", type=int, default=2, help="Celery pool processes")
    parser.add_argument(
        "--in-process-checkouts", type=int, default=200, help="checkouts timed in process"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(PHASES),
        help=f"comma-separated phases to run (default all: {','.join(PHASES)}); targets of "
        "phases not run are not judged",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also cProfile N in-process requests of each page kind and print the top functions",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.seconds <= 0 or args.worker_processes < 1 or args.in_process_checkouts < 1:
        parser.error("--seconds, --worker-processes and --in-process-checkouts must be positive")
    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        parser.error("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    # One secret for this process (sessions it signs) and the servers (which check them), and a
    # cache key prefix of its own so that nothing cached by an earlier run is served.
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_hex(32)
    os.environ["FENXIAO_SANDBOX_PAY_SECRET"] = secrets.token_hex(32)
    os.environ["FENXIAO_CACHE_KEY_PREFIX"] = f"bench-http-{secrets.token_hex(4)}"
    # The in-process side keeps its connection, as the servers do (production settings: 60 s).
    os.environ["DATABASE_CONN_MAX_AGE"] = "60"
    bench_url, bench_name = bench_database_url(url)
    print(f"bench database {bench_name}: creating and migrating…", flush=True)
    create_database(url, bench_name)
    try:
        os.environ["DATABASE_URL"] = bench_url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from apps.tenancy.scope import platform_scope

        call_command("migrate", verbosity=0)
        try:
            # Row-level security: the fixture is built (and the in-process requests start) in the
            # platform scope; each request replaces it with its own, as gunicorn's do.
            with platform_scope(reason="bench: the fixture and the in-process pages"):
                result = run(args, bench_url)
        finally:
            connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(url, bench_name)
    text, errors_ok, targets_ok = report(result)
    print(text)
    for kind, profile in (result.get("profiles") or {}).items():
        print(f"\n--- profile: {kind} ---\n{profile}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"through_http-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    if not errors_ok:
        return 1
    if args.strict and not targets_ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
