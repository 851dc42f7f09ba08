"""Soak under faults: the mixed load for minutes while a random web or worker process is killed.

What runs: gunicorn (production settings, ``config/gunicorn.conf.py``), two Celery workers (each
its own process tree) and beat, started as ``bench/through_http.py`` starts them, against a
throwaway database ``<DATABASE_URL's name>_bench_soak`` seeded with the demo.

1. Calibration: the mixed load from 8 clients, flat out, for ``--calibrate`` seconds: the
   requests per second the machine sustains.
2. The soak: the same clients, paced to ``--load`` (80 %) of that, for ``--minutes``. Each client
   picks by weight: signed-out catalogue and product pages, a checkout (cart → order → sandbox pay
   → paid by the worker's notification), staff shipping a paid order (API), the consumer
   confirming receipt (API), the consumer asking for a refund and staff approving it (API), a
   distributor withdrawing ¥1 (API). Every ``--kill-every`` seconds (60) a random gunicorn worker
   or Celery worker process is SIGKILLed; gunicorn's master replaces its workers, a killed Celery
   worker is started again by this script.
3. Afterwards the sweepers get ``--settle`` seconds, then: requests, errors by kind (a 5xx, a
   connection error, a refusal), orders placed (answered with an order page) against orders in
   the database, ``ledger_check`` and ``tree_check`` of every tree, and every order, refund and
   withdrawal still in an intermediate state longer than its sweeper allows.

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/soak.py [--minutes 1]

Exit 1 when the ledger or a tree is broken or something is stuck; 5xx answers are counted (the
requests in flight to a killed process are expected to fail) but do not fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from order_placement import create_database, drop_database  # noqa: E402
from through_http import (  # noqa: E402
    CONSUMERS,
    STORE,
    Actor,
    Fixture,
    Person,
    Recorder,
    Servers,
    free_port,
    percentile,
    purge_celery_queue,
)

WEIGHTS = {
    "catalogue": 25,
    "product": 30,
    "checkout": 15,
    "ship": 8,
    "complete": 8,
    "refund": 5,
    "approve": 4,
    "withdraw": 5,
}
CLIENTS = 8
# The open loop's clients: one per bench consumer. A closed loop of 8 clients can offer no more
# than 8 ÷ the time an action takes: when answers slowed (a checkout polling for its payment
# notification, a killed worker's requests, growing order lists) it offered 6.3 of the 11.7
# requests/s it was paced to. Arrivals that do not wait for answers keep offering the rate.
POOL = CONSUMERS


def soak_database_url(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    import environ

    name = environ.Env.db_url_config(url)["NAME"] + "_bench_soak"
    return urlunsplit(urlsplit(url)._replace(path="/" + name)), name


class SoakServers(Servers):
    """gunicorn, two Celery workers and beat; a killed worker is started again."""

    def start(self) -> None:
        # Plain HTTP on the loopback: no redirect to HTTPS, no HSTS.
        self.env.update(DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_HSTS_SECONDS="0")
        super().start()  # collectstatic, gunicorn, the first worker
        self.worker_command = next(p.args for n, p, _log in self.processes if n == "worker")
        self._spawn_worker(2)
        self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "warning",
                "--schedule",
                str(self.log_dir / f"soak-beat-{os.getpid()}"),
            ],
        )

    def _spawn_worker(self, number: int) -> None:
        command = [
            part.replace("bench-http-", f"bench-soak{number}-") for part in self.worker_command
        ]
        self._spawn(f"worker{number}", command)

    def web_workers(self) -> list[int]:
        import psutil

        (gunicorn,) = [p for n, p, _log in self.processes if n == "gunicorn"]
        return [child.pid for child in psutil.Process(gunicorn.pid).children()]

    def kill_random(self, rng: random.Random) -> str:
        """SIGKILL one gunicorn worker or one Celery worker (its whole process group: the main
        process and its pool), and start a Celery worker again."""
        targets = [("web", pid) for pid in self.web_workers()]
        targets += [(name, p.pid) for name, p, _log in self.processes if name.startswith("worker")]
        kind, pid = rng.choice(targets)
        if kind == "web":
            os.kill(pid, signal.SIGKILL)
            return f"web worker {pid}"
        index = next(i for i, (name, p, _l) in enumerate(self.processes) if p.pid == pid)
        name, process, log = self.processes.pop(index)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()  # type: ignore[attr-defined]
        self._spawn(name, [part.replace("@", f"-{secrets.token_hex(2)}@") for part in process.args])
        return f"{name} {pid} (restarted)"


class SoakActor(Actor):
    def __init__(self, base: str, data: dict, index: int, seed: int) -> None:
        super().__init__(base, data, index, seed)
        self.staff = Person(base, None, token=data["staff_token"])
        self.buyer = Person(base, None, token=data["consumer_tokens"][index])
        self.withdrawal_amount = data["withdrawal_amount"]

    async def close(self) -> None:
        await super().close()
        for person in (self.staff, self.buyer):
            await person.close()

    async def call(self, person: Person, recorder: Recorder, kind: str, method: str, path: str,
                  body: dict | None = None) -> tuple[int, object]:  # fmt: skip
        start = time.perf_counter()
        try:
            async with person.session.request(method, person.base + path, json=body) as response:
                status = response.status
                payload = await response.json(content_type=None) if status != 204 else None
        except Exception as error:  # noqa: BLE001 (every failure counts)
            recorder.error(f"{kind}:connection", f"{method} {path}: {error!r}")
            return 0, None
        recorder.latencies[kind].append((time.perf_counter() - start) * 1000)
        if status >= 500:
            recorder.error(f"{kind}:5xx", f"{method} {path}: {status}")
        elif status >= 400:
            code = payload.get("code", "invalid") if isinstance(payload, dict) else "invalid"
            recorder.refusals[f"{kind}:{status}:{code}"] += 1  # type: ignore[attr-defined]
        return status, payload

    async def first(self, person, recorder, kind, path, status=None):  # type: ignore[no-untyped-def]
        code, payload = await self.call(person, recorder, kind, "GET", path)
        if code != 200 or not isinstance(payload, dict):
            return None
        rows = [row for row in payload.get("results", []) if status in (None, row.get("status"))]
        return self.random.choice(rows) if rows else None

    async def act(self, kind: str, recorder: Recorder) -> None:
        store = f"/api/v1/stores/{STORE}"
        if kind in ("catalogue", "product"):
            await super().act(kind, recorder)
        elif kind == "checkout":
            await self.checkout(recorder)
        elif kind == "ship":
            order = await self.first(
                self.staff, recorder, kind, "/api/v1/merchant/orders/?status=paid"
            )
            if order:
                body = {"carrier": "SF", "tracking_number": f"SF{order['id']}"}
                await self.call(self.staff, recorder, kind, "POST",
                               f"/api/v1/merchant/orders/{order['id']}/ship/", body)  # fmt: skip
        elif kind == "complete":
            order = await self.first(self.buyer, recorder, kind, f"{store}/orders/", "shipped")
            if order:
                await self.call(self.buyer, recorder, kind, "POST",
                               f"{store}/orders/{order['id']}/confirm-receipt/")  # fmt: skip
        elif kind == "refund":
            order = await self.first(self.buyer, recorder, kind, f"{store}/orders/", "completed")
            if order:
                body = {"order": order["id"], "kind": "order", "reason": "soak"}
                await self.call(self.buyer, recorder, kind, "POST", f"{store}/refunds/", body)
        elif kind == "approve":
            case = await self.first(
                self.staff, recorder, kind, "/api/v1/merchant/refunds/?status=requested"
            )
            if case:
                await self.call(self.staff, recorder, kind, "POST",
                               f"/api/v1/merchant/refunds/{case['id']}/approve/", {"reason": ""})  # fmt: skip
        elif kind == "withdraw":
            body = {"amount": self.withdrawal_amount, "account": "alipay:soak"}
            await self.call(self.api, recorder, kind, "POST",
                           f"{store}/distributor/withdrawals/", body)  # fmt: skip


async def drive(*, base: str, data: dict, seconds: float, actions_per_second: float | None,
                servers: SoakServers | None, kill_every: float, seed: int) -> dict:  # fmt: skip
    """Closed loop (``actions_per_second`` None): CLIENTS clients, each starting its next action
    when the last one ends, flat out. Open loop: actions arrive at ``actions_per_second``
    (exponential gaps, seeded) whatever the server's answers take, each taken by a free client
    of a pool of POOL; an arrival that finds every client busy waits for one, and is counted."""
    recorder = Recorder()
    recorder.refusals = Counter()  # type: ignore[attr-defined]
    pool = CLIENTS if actions_per_second is None else POOL
    actors = [SoakActor(base, data, index, seed=seed + index) for index in range(pool)]
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    start = time.perf_counter()
    stop_at = start + seconds
    kills: list[str] = []
    rng = random.Random(seed)
    actions = Counter[str]()
    waits: list[float] = []

    async def one(actor: SoakActor) -> None:
        kind = actor.random.choices(kinds, weights=weights)[0]
        actions[kind] += 1
        await actor.act(kind, recorder)

    async def closed_loop(actor: SoakActor) -> None:
        while time.perf_counter() < stop_at:
            await one(actor)

    async def open_loop() -> None:
        free: asyncio.Queue[SoakActor] = asyncio.Queue()
        for actor in actors:
            free.put_nowait(actor)
        running: set[asyncio.Task[None]] = set()

        async def serve(actor: SoakActor) -> None:
            try:
                await one(actor)
            finally:
                free.put_nowait(actor)

        arrival = time.perf_counter()
        while True:
            arrival += rng.expovariate(actions_per_second)  # type: ignore[arg-type]
            if arrival >= stop_at:
                break
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            actor = await free.get()
            waits.append(time.perf_counter() - arrival)
            task = asyncio.create_task(serve(actor))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)

    async def killer() -> None:
        while servers is not None and time.perf_counter() + kill_every < stop_at:
            await asyncio.sleep(kill_every)
            kills.append(f"{time.perf_counter() - start:6.1f}s {servers.kill_random(rng)}")
            print(f"    killed {kills[-1]}", flush=True)

    try:
        if actions_per_second is None:
            await asyncio.gather(killer(), *(closed_loop(actor) for actor in actors))
        else:
            await asyncio.gather(killer(), open_loop())
    finally:
        elapsed = time.perf_counter() - start
        await asyncio.gather(*(actor.close() for actor in actors))
    total = sum(len(values) for values in recorder.latencies.values())
    return {
        "seconds": elapsed,
        "clients": pool,
        "requests": total,
        "requests_per_second": total / elapsed,
        "window_seconds": seconds,
        "actions": sum(actions.values()),
        # Arrivals (or, closed loop, starts) per second of the window; the drain after it (the
        # actions still running when it ends) only adds their requests.
        "actions_per_second": sum(actions.values()) / seconds,
        "actions_by_kind": dict(sorted(actions.items())),
        "arrivals_waiting_for_a_client": sum(1 for wait in waits if wait > 0.05),
        "arrival_wait_p95_ms": round(percentile([w * 1000 for w in waits], 0.95), 1),
        "errors": dict(sorted(Counter(recorder.errors).items())),
        "error_samples": recorder.error_samples,
        "refusals": dict(sorted(recorder.refusals.items())),  # type: ignore[attr-defined]
        "per_kind": {
            kind: {"requests": len(values), "p95_ms": round(percentile(values, 0.95), 1)}
            for kind, values in sorted(recorder.latencies.items())
        },
        "checkouts": len(recorder.journeys),
        "kills": kills,
    }


def stuck_after_sweepers() -> dict:
    """What is still in an intermediate state longer than its sweeper allows."""
    from django.conf import settings
    from django.utils import timezone

    from apps.orders.models import Order
    from apps.payments.models import Payment
    from apps.refunds.models import RefundCase
    from apps.withdrawals.models import Withdrawal
    from apps.withdrawals.services import STUCK_AFTER

    now = timezone.now()
    sweep = timedelta(seconds=settings.FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS * 2)
    ttl = timedelta(minutes=settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES)
    return {
        "completed, unsettled": Order.objects.filter(
            status=Order.Status.COMPLETED,
            commission_status=Order.CommissionStatus.PENDING,
            completed_at__lt=now - sweep,
        ).count(),
        "unpaid past the TTL": Order.objects.filter(
            status=Order.Status.PENDING_PAYMENT, created_at__lt=now - ttl - timedelta(minutes=2)
        ).count(),
        "payment succeeded, order unpaid": Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, order__status=Order.Status.PENDING_PAYMENT
        ).count(),
        "refund approved, not sent": RefundCase.objects.filter(
            status=RefundCase.Status.APPROVED, decided_at__lt=now - timedelta(minutes=4)
        ).count(),
        "refund refunding": RefundCase.objects.filter(
            status=RefundCase.Status.REFUNDING, decided_at__lt=now - timedelta(minutes=4)
        ).count(),
        "withdrawal approved or paying": Withdrawal.objects.filter(
            status__in=[Withdrawal.Status.APPROVED, Withdrawal.Status.PAYING],
            reviewed_at__lt=now - STUCK_AFTER * 2,
        ).count(),
    }


def checks(started_at: datetime, consumers: list[int]) -> dict:
    from apps.distributors.tree import trees_check
    from apps.ledger.checks import ledger_breaches
    from apps.orders.models import Order

    return {
        "orders_in_database": Order.objects.filter(
            customer_id__in=consumers, created_at__gte=started_at
        ).count(),
        "ledger_breaches": [str(breach) for breach in ledger_breaches()][:20],
        "broken_trees": {str(k): v[:5] for k, v in trees_check().items()},
        "stuck": stuck_after_sweepers(),
    }


def run(args: argparse.Namespace, url: str) -> dict:
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.withdrawals.selectors import withdrawal_settings_for

    fixture = Fixture()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    staff = User.objects.get(username="tea_admin")
    data = {
        "product_ids": fixture.product_ids,
        "checkout_product_ids": fixture.checkout_product_ids,
        "consumer_sessions": fixture.consumer_sessions,
        "distributor_sessions": fixture.distributor_sessions,
        "distributor_tokens": fixture.distributor_tokens,
        "staff_token": Token.objects.get_or_create(user=staff)[0].key,
        "consumer_tokens": [Token.objects.get_or_create(user=u)[0].key for u in fixture.consumers],
        "withdrawal_amount": str(withdrawal_settings_for(merchant=fixture.merchant).minimum_amount),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    servers = SoakServers(
        database_url=url, port=port, worker_processes=1, log_dir=ROOT / "bench" / "results"
    )
    purge_celery_queue()
    servers.start()
    started_at = timezone.now()
    load_before = os.getloadavg()[0]
    try:
        if args.warmup:
            print(
                f"  warming up: {CLIENTS} clients for {args.warmup:g} s (not counted)…", flush=True
            )
            warmup = asyncio.run(
                drive(
                    base=base,
                    data=data,
                    seconds=args.warmup,
                    actions_per_second=None,
                    servers=None,
                    kill_every=args.kill_every,
                    seed=0,
                )  # fmt: skip
            )
        print(f"  calibrating: {CLIENTS} clients flat out for {args.calibrate:g} s…", flush=True)
        calibration = asyncio.run(
            drive(
                base=base,
                data=data,
                seconds=args.calibrate,
                actions_per_second=None,
                servers=None,
                kill_every=args.kill_every,
                seed=1,
            )  # fmt: skip
        )
        actions_per_second = calibration["actions_per_second"] * args.load
        rate = calibration["requests_per_second"] * args.load
        print(f"  soaking {args.minutes:g} min: {actions_per_second:.2f} actions/s arriving "
              f"(≈ {rate:.1f} requests/s), killing every {args.kill_every:g} s…", flush=True)  # fmt: skip
        soak = asyncio.run(
            drive(
                base=base,
                data=data,
                seconds=args.minutes * 60,
                actions_per_second=actions_per_second,
                servers=servers,
                kill_every=args.kill_every,
                seed=2,
            )  # fmt: skip
        )
        print(f"  letting the sweepers work for {args.settle:g} s…", flush=True)
        time.sleep(args.settle)
    finally:
        servers.stop()
        purge_celery_queue()
    return {
        "benchmark": "soak",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "calibration": calibration,
        "warmup_checkouts": warmup["checkouts"] if args.warmup else 0,
        "target_requests_per_second": rate,
        "target_actions_per_second": actions_per_second,
        "soak": soak,
        "checks": checks(started_at, [u.pk for u in fixture.consumers]),
        "load_average_1min_before": load_before,
        "load_average_1min": os.getloadavg()[0],
    }


def report(result: dict) -> tuple[str, bool]:
    soak, found = result["soak"], result["checks"]
    calibration = result["calibration"]
    lines = [
        f"load average (1 min): {result['load_average_1min_before']:.1f} before, "
        f"{result['load_average_1min']:.1f} after",
        f"calibration: {calibration['requests_per_second']:.1f} requests/s, "
        f"{calibration['actions_per_second']:.2f} actions/s ({CLIENTS} clients, flat out)",
        f"soak offered: {result['target_actions_per_second']:.2f} actions/s arriving "
        f"({soak['actions']} in {soak['window_seconds']:.0f} s: {soak['actions_per_second']:.2f}/s), "
        f"target ≈ {result['target_requests_per_second']:.1f} requests/s; "
        f"{soak['arrivals_waiting_for_a_client']} arrivals waited for a free client "
        f"(of {soak['clients']}; p95 wait {soak['arrival_wait_p95_ms']:.0f} ms)",
        f"soak held: {soak['requests']} requests in {soak['seconds']:.0f} s (the window and "
        f"the drain of what was still running) "
        f"({soak['requests_per_second']:.1f}/s = "
        f"{soak['requests_per_second'] / calibration['requests_per_second']:.2f} of calibrated), "
        f"{len(soak['kills'])} processes killed",
        f"errors by kind: {soak['errors'] or 'none'}",
        f"refusals (4xx) by kind: {soak['refusals'] or 'none'}",
        f"orders placed and paid (answered, warm-up and calibration included): "
        f"{result['warmup_checkouts'] + calibration['checkouts'] + soak['checkouts']}; "
        f"orders in the database: "
        f"{found['orders_in_database']} (with those whose answer was lost or refused later)",
        f"ledger_check: {'green' if not found['ledger_breaches'] else found['ledger_breaches']}",
        f"tree_check: {'green' if not found['broken_trees'] else found['broken_trees']}",
        f"stuck past the sweepers: {found['stuck']}",
    ]
    lines += [f"  kill {kill}" for kill in soak["kills"]]
    lines += [f"  error sample {sample}" for sample in soak["error_samples"]]
    ok = not found["ledger_breaches"] and not found["broken_trees"]
    ok = ok and not any(found["stuck"].values())
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="length of the soak")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before calibrating")
    parser.add_argument("--calibrate", type=float, default=15.0, help="seconds of calibration")
    parser.add_argument("--load", type=float, default=0.8, help="share of the calibrated rate")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between kills")
    parser.add_argument("--settle", type=float, default=90.0, help="seconds for the sweepers")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    args = parser.parse_args()
    if min(args.minutes, args.calibrate, args.load, args.kill_every) <= 0 or args.settle < 0:
        parser.error("--minutes, --calibrate, --load and --kill-every must be positive")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        parser.error("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_hex(32)
    os.environ["FENXIAO_SANDBOX_PAY_SECRET"] = secrets.token_hex(32)
    os.environ["FENXIAO_CACHE_KEY_PREFIX"] = f"bench-soak-{secrets.token_hex(4)}"
    os.environ["DATABASE_CONN_MAX_AGE"] = "60"
    soak_url, soak_name = soak_database_url(url)
    print(f"soak database {soak_name}: creating and migrating…", flush=True)
    create_database(url, soak_name)
    try:
        os.environ["DATABASE_URL"] = soak_url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from apps.tenancy.scope import platform_scope

        call_command("migrate", verbosity=0)
        try:
            with platform_scope(reason="bench: the fixture and the checks"):
                result = run(args, soak_url)
        finally:
            connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(url, soak_name)
    text, ok = report(result)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
