"""Distributor tree: bulk import, joins at random places, upline and team lookups, at 100,000.

What is measured, on its own throwaway database ``<DATABASE_URL's name>_bench_tree``:

1. Import (``apps.distributors.imports.distributors_import``, the code behind the admin upload and
   ``manage.py import_distributors``) of one single tree of ``--size`` distributors (each row's
   upline a uniformly random earlier row: a random recursive tree, depth ≈ e·ln n) — seconds per
   thousand rows, the check and the write apart — and of a forest of ``--size`` for another store
   (2 % roots, uplines chosen by preferential attachment, so a few recruiters have thousands of
   direct recruits: the skewed fan-out of real programmes).
2. Joins through ``distributor_join`` (what the store page and the API run: code lookup, locks,
   placement, wallet), each under a uniformly random existing distributor of the single tree
   (including those who joined during the run): sequentially, then from ``--workers`` processes at
   once (each its own connection, released together by a barrier): median / p95 ms per join and
   joins per second of wall time. Then the same in the forest.
3. Lookups on random distributors: upline (3 levels), team size (all levels), team levels 1–3; and
   the same on the single tree's root (the largest team).
4. ``tree_check`` of every tree at the end (the run fails if one is invalid).

Usage::

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/distributor_tree.py \
        [--size 100000] [--joins 1000] [--concurrent-joins 2000] [--workers 8] [--keep-db] [--strict]

Targets (single tree of 100,000): joins p95 ≤ 20 ms, sequential and with 8 concurrent joiners,
≥ 400 joins/s with 8 joiners, the same p95 under the fan-out network's one inviter, import ≤ 0.5 s
per thousand rows, every tree valid. An invalid tree exits 1; a missed
timing target exits 1 only with ``--strict`` (timings move with the machine's load).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import environ  # noqa: E402
from order_placement import create_database, drop_database  # noqa: E402

TARGET_P95_MS = 20.0
TARGET_JOINS_PER_S = 400.0
TARGET_IMPORT_S_PER_1000 = 0.5
SEED = 20261126
LOOKUPS = 500


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timing(values_ms: list[float]) -> dict:
    return {
        "count": len(values_ms),
        "median_ms": round(statistics.median(values_ms), 2),
        "p95_ms": round(percentile(values_ms, 0.95), 2),
        "max_ms": round(max(values_ms), 2),
    }


# --- the networks ----------------------------------------------------------------------------


def single_tree_csv(size: int, chooser: random.Random) -> str:
    lines = ["username,name,upline", "s0,根,"]
    for i in range(1, size):
        lines.append(f"s{i},,s{chooser.randrange(i)}")
    return "\n".join(lines) + "\n"


def forest_csv(size: int, chooser: random.Random) -> str:
    """2 % roots; everyone else under an earlier row picked with probability ∝ 1 + its recruits."""
    lines = ["username,name,upline"]
    weighted: list[int] = []
    for i in range(size):
        if i == 0 or chooser.random() < 0.02:
            lines.append(f"f{i},,")
        else:
            parent = chooser.choice(weighted)
            lines.append(f"f{i},,f{parent}")
            weighted.append(parent)
        weighted.append(i)
    return "\n".join(lines) + "\n"


def fan_out_csv(size: int) -> str:
    """One inviter and ``size`` direct recruits: every join of the run goes under the inviter."""
    return (
        "\n".join(["username,name,upline", "w0,,", *(f"w{i},,w0" for i in range(1, size + 1))])
        + "\n"
    )


def import_network(merchant, text: str) -> dict:  # type: ignore[no-untyped-def]
    from apps.distributors.imports import import_check, import_write

    rows = text.count("\n") - 1
    started = time.perf_counter()
    plan = import_check(merchant=merchant, text=text)
    checked = time.perf_counter()
    import_write(plan=plan)
    written = time.perf_counter()
    return {
        "rows": rows,
        "check_s": round(checked - started, 2),
        "write_s": round(written - checked, 2),
        "total_s": round(written - started, 2),
        "s_per_1000": round((written - started) / rows * 1000, 3),
    }


def make_users(prefix: str, count: int) -> list[int]:
    from django.contrib.auth.hashers import make_password

    from apps.accounts.models import User

    password = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}", password=password) for i in range(count)], batch_size=5000
    )
    return [user.pk for user in users]


# --- joins -----------------------------------------------------------------------------------


def join_many(
    merchant_id: int, user_ids: list[int], codes: list[str], seed: int, fixed: bool = False
) -> dict:
    """Join each user under a random code (codes of those who joined are added as they join,
    unless ``fixed``: then every join goes under one of ``codes`` as given)."""
    from apps.accounts.models import User
    from apps.distributors import tree
    from apps.distributors.services import distributor_join
    from apps.merchants.models import Merchant
    from apps.tenancy.scope import tenant_scope

    chooser = random.Random(seed)
    merchant = Merchant.objects.get(pk=merchant_id)
    users = list(User.objects.filter(pk__in=user_ids))
    tree.respace_stats.clear()
    latencies = []
    cpu_started = time.process_time()
    # In the store's scope, as the storefront's middleware runs the join (row-level security).
    with tenant_scope(merchant):
        for user in users:
            code = chooser.choice(codes)
            started = time.perf_counter()
            joined = distributor_join(merchant=merchant, user=user, invite_code=code)
            latencies.append((time.perf_counter() - started) * 1000)
            if not fixed:
                codes.append(joined.invite_code)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / max(1, len(users))
    return {"latencies": latencies, "respaces": dict(tree.respace_stats), "cpu_ms": cpu_ms}


def _worker(args: tuple) -> dict:  # type: ignore[type-arg]
    merchant_id, user_ids, codes, seed, fixed, barrier = args
    from django.db import connection

    from apps.accounts.models import User
    from apps.merchants.models import Merchant

    # warm the connection and the caches before the barrier
    Merchant.objects.get(pk=merchant_id)
    User.objects.filter(pk__in=user_ids[:1]).count()
    barrier.wait()
    started = time.time()
    result = join_many(merchant_id, user_ids, codes, seed, fixed)
    result["started"], result["ended"] = started, time.time()
    connection.close()
    return result


_BARRIER = None


def _init_worker(barrier) -> None:  # type: ignore[no-untyped-def]
    global _BARRIER
    _BARRIER = barrier


def _pool_worker(args: tuple) -> dict:  # type: ignore[type-arg]
    return _worker((*args, _BARRIER))


def join_concurrently(
    merchant_id: int, user_ids: list[int], codes: list[str], workers: int, fixed: bool = False
) -> dict:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    shares = [user_ids[i::workers] for i in range(workers)]
    with context.Pool(workers, initializer=_init_worker, initargs=(barrier,)) as pool:
        pending = pool.map_async(
            _pool_worker,
            [(merchant_id, share, list(codes), SEED + n, fixed) for n, share in enumerate(shares)],
        )
        waits = sample_lock_waits(pending)
        results = pending.get()
        connections.close_all()
    latencies = [ms for result in results for ms in result["latencies"]]
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    respaces: dict[str, int] = {}
    for result in results:
        for key, value in result["respaces"].items():
            respaces[key] = respaces.get(key, 0) + value
    return {
        **timing(latencies),
        "workers": workers,
        "wall_s": round(wall, 2),
        "joins_per_s": round(len(latencies) / wall, 1),
        "respaces": respaces,
        **waits,
    }


def sample_lock_waits(pending) -> dict:  # type: ignore[no-untyped-def]
    """While the joiners run, sample every 10 ms what their backends are doing: running a
    statement (``active``, and whether it waits for a lock — advisory, row or transaction — or for
    something else: WAL flush at commit, I/O), or waiting for their joiner (``idle in
    transaction``: a lock held while the joiner's Python runs; ``idle``: between joins). Do joins
    queue on each other, or do they only share the CPUs?"""
    from collections import Counter

    from django.db import connection

    from apps.tenancy.scope import owner_connection

    samples = active = waiting = 0
    states: Counter[str] = Counter()
    # As the owner: the application role sees no other session's state.
    with owner_connection("bench: sessions waiting"), connection.cursor() as cursor:
        while not pending.ready():
            cursor.execute(
                "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'running')"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            rows = cursor.fetchall()
            now_active = sum(1 for state, _event in rows if state == "active")
            if now_active:
                samples += 1
                active += now_active
                waiting += sum(
                    1 for state, event in rows if state == "active" and event.startswith("Lock:")
                )
                for state, event in rows:
                    states[f"{state} / {event}" if state == "active" else str(state)] += 1
            time.sleep(0.01)
    return {
        "lock_samples": samples,
        "mean_active_backends": round(active / samples, 2) if samples else 0,
        "mean_backends_waiting_for_a_lock": round(waiting / samples, 2) if samples else 0,
        # mean backends per state (and wait event) over the samples
        "backend_states": {
            key: round(count / samples, 2) for key, count in states.most_common(8) if samples
        },
    }


def statements_of_a_join(merchant, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL ``distributor_join`` sends, in the store's scope (Django records BEGIN/COMMIT and
    savepoints among the captured queries; the scope's own set_config is not among them)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import User
    from apps.distributors.services import distributor_join
    from apps.tenancy.scope import tenant_scope

    user = User.objects.create_user(f"bench_counted_join_{merchant.pk}")
    with tenant_scope(merchant), CaptureQueriesContext(connection) as captured:
        distributor_join(merchant=merchant, user=user, invite_code=code)
    return [query["sql"][:160] for query in captured.captured_queries]


# --- lookups ---------------------------------------------------------------------------------


def lookups(merchant, chooser: random.Random) -> dict:  # type: ignore[no-untyped-def]
    from apps.distributors.models import Distributor
    from apps.distributors.selectors import (
        distributor_team,
        distributor_team_size,
        distributor_upline,
    )

    pks = list(Distributor.objects.filter(merchant=merchant).values_list("pk", flat=True))
    sample = [chooser.choice(pks) for _ in range(LOOKUPS)]
    nodes = {d.pk: d for d in Distributor.objects.filter(pk__in=sample)}
    result = {}
    for name, call in (
        ("upline_3", lambda d: distributor_upline(distributor=d)),
        ("team_size", lambda d: distributor_team_size(distributor=d)),
        ("team_levels_1_3", lambda d: distributor_team(distributor=d)),
    ):
        times = []
        for pk in sample:
            started = time.perf_counter()
            call(nodes[pk])
            times.append((time.perf_counter() - started) * 1000)
        result[name] = timing(times)
    biggest = max(
        Distributor.objects.filter(merchant=merchant, parent=None),
        key=lambda d: distributor_team_size(distributor=d),
    )
    for name, call in (
        ("team_size_of_largest_root", lambda d: distributor_team_size(distributor=d)),
        ("team_levels_1_3_of_largest_root", lambda d: distributor_team(distributor=d)),
    ):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            call(biggest)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = timing(times)
    result["largest_root_team"] = distributor_team_size(distributor=biggest)
    return result


def check_trees(merchant) -> dict:  # type: ignore[no-untyped-def]
    from apps.distributors.models import Distributor
    from apps.distributors.tree import trees_check

    started = time.perf_counter()
    broken = trees_check(merchant=merchant)
    return {
        "trees": Distributor.objects.filter(merchant=merchant, parent=None).count(),
        "nodes": Distributor.objects.filter(merchant=merchant).count(),
        "max_level": max(
            Distributor.objects.filter(merchant=merchant).values_list("level", flat=True)
        ),
        "broken_trees": len(broken),
        "first_problems": {str(k): v[:3] for k, v in list(broken.items())[:3]},
        "check_s": round(time.perf_counter() - started, 2),
    }


# --- the run ---------------------------------------------------------------------------------


def run_network(name: str, merchant, text: str, args, chooser, fan_out: bool = False) -> dict:  # type: ignore[no-untyped-def]
    """Import, joins, lookups, check. ``fan_out``: every join goes under the network's root."""
    from apps.distributors.models import Distributor

    rows = text.count("\n") - 1
    print(f"  {name}: importing {rows:,} rows…", flush=True)
    result: dict = {"import": import_network(merchant, text)}
    everyone = Distributor.objects.filter(merchant=merchant)
    if fan_out:
        everyone = everyone.filter(parent__isnull=True)
    codes = list(everyone.values_list("invite_code", flat=True))
    result["statements_of_a_join"] = statements_of_a_join(merchant, chooser.choice(codes))
    result["statements_per_join"] = len(result["statements_of_a_join"])
    print(f"  {name}: {args.joins} sequential joins…", flush=True)
    sequential_users = make_users(f"{name}_seq_", args.joins)
    sequential = join_many(merchant.pk, sequential_users, list(codes), SEED, fan_out)
    result["sequential_joins"] = {
        **timing(sequential["latencies"]),
        "joins_per_s": round(
            len(sequential["latencies"]) / (sum(sequential["latencies"]) / 1000), 1
        ),
        "respaces": sequential["respaces"],
        "python_cpu_ms_per_join": round(sequential["cpu_ms"], 2),
    }
    print(f"  {name}: {args.concurrent_joins} joins from {args.workers} processes…", flush=True)
    codes = list(everyone.values_list("invite_code", flat=True))
    concurrent_users = make_users(f"{name}_con_", args.concurrent_joins)
    result["concurrent_joins"] = join_concurrently(
        merchant.pk, concurrent_users, codes, args.workers, fan_out
    )
    print(f"  {name}: lookups and tree check…", flush=True)
    result["lookups"] = lookups(merchant, chooser)
    result["check"] = check_trees(merchant)
    return result


def run(args: argparse.Namespace) -> dict:
    from apps.accounts.models import User
    from apps.merchants.services import merchant_create

    chooser = random.Random(SEED)
    owner = User.objects.create_user("bench_tree_owner")
    single = merchant_create(name="Single tree", slug="bench-single", owner=owner)
    owner2 = User.objects.create_user("bench_forest_owner")
    forest = merchant_create(name="Forest", slug="bench-forest", owner=owner2)
    owner3 = User.objects.create_user("bench_fan_owner")
    fan = merchant_create(name="Fan-out", slug="bench-fan-out", owner=owner3)
    return {
        "size": args.size,
        "workers": args.workers,
        "load_average_before": list(os.getloadavg()),
        "single_tree": run_network(
            "single", single, single_tree_csv(args.size, chooser), args, chooser
        ),
        "forest": run_network("forest", forest, forest_csv(args.size, chooser), args, chooser),
        "fan_out": run_network(
            "fan-out", fan, fan_out_csv(args.fan_out), args, chooser, fan_out=True
        ),
        "fan_out_recruits": args.fan_out,
        "load_average_after": list(os.getloadavg()),
    }


def report(result: dict) -> tuple[str, bool, bool]:
    single = result["single_tree"]
    lines = [
        f"Distributor tree benchmark — {result['size']:,} distributors per network, "
        f"{result['workers']} concurrent joiners (processes); load "
        f"{result['load_average_before'][0]:.1f} → {result['load_average_after'][0]:.1f}",
        "",
        f"{'':34}{'single tree':>16}{'forest':>16}{'fan-out':>16}",
    ]

    def row(label: str, getter) -> None:  # type: ignore[no-untyped-def]
        values = []
        for network in ("single_tree", "forest", "fan_out"):
            try:
                values.append(str(getter(result[network])))
            except (KeyError, TypeError):
                values.append("–")
        lines.append(f"{label:34}" + "".join(f"{value:>16}" for value in values))

    row("trees / max level", lambda r: f"{r['check']['trees']} / {r['check']['max_level']}")
    row("import s per 1000 rows", lambda r: r["import"]["s_per_1000"])
    row("import check / write s", lambda r: f"{r['import']['check_s']} / {r['import']['write_s']}")
    row("statements per join", lambda r: r["statements_per_join"])
    row("join sequential median ms", lambda r: r["sequential_joins"]["median_ms"])
    row("join sequential p95 ms", lambda r: r["sequential_joins"]["p95_ms"])
    row("join sequential joins/s", lambda r: r["sequential_joins"]["joins_per_s"])
    row(
        "join Python CPU ms (sequential)", lambda r: r["sequential_joins"]["python_cpu_ms_per_join"]
    )
    row("respaces (sequential)", lambda r: r["sequential_joins"]["respaces"].get("respaces", 0))
    row("join concurrent joins/s", lambda r: r["concurrent_joins"]["joins_per_s"])
    row("join concurrent median ms", lambda r: r["concurrent_joins"]["median_ms"])
    row("join concurrent p95 ms", lambda r: r["concurrent_joins"]["p95_ms"])
    row("respaces (concurrent)", lambda r: r["concurrent_joins"]["respaces"].get("respaces", 0))
    row(
        "  backends active / waiting lock",
        lambda r: (
            f"{r['concurrent_joins']['mean_active_backends']} / "
            f"{r['concurrent_joins']['mean_backends_waiting_for_a_lock']}"
        ),
    )
    row("upline 3 levels median/p95 ms", lambda r: _pair(r["lookups"]["upline_3"]))
    row("team size median/p95 ms", lambda r: _pair(r["lookups"]["team_size"]))
    row("team levels 1-3 median/p95 ms", lambda r: _pair(r["lookups"]["team_levels_1_3"]))
    row("largest team (root) size", lambda r: r["lookups"]["largest_root_team"])
    row(
        "  its team size median ms",
        lambda r: r["lookups"]["team_size_of_largest_root"]["median_ms"],
    )
    row(
        "  its levels 1-3 median ms",
        lambda r: r["lookups"]["team_levels_1_3_of_largest_root"]["median_ms"],
    )
    row("tree_check s", lambda r: r["check"]["check_s"])
    row("broken trees", lambda r: r["check"]["broken_trees"])
    valid = all(
        result[n]["check"]["broken_trees"] == 0 for n in ("single_tree", "forest", "fan_out")
    )
    fan = result["fan_out"]
    targets = {
        f"join p95 ≤ {TARGET_P95_MS:g} ms (single, sequential)": single["sequential_joins"][
            "p95_ms"
        ]
        <= TARGET_P95_MS,
        f"join p95 ≤ {TARGET_P95_MS:g} ms with {result['workers']} joiners (single)": single[
            "concurrent_joins"
        ]["p95_ms"]
        <= TARGET_P95_MS,
        f"≥ {TARGET_JOINS_PER_S:g} joins/s with {result['workers']} joiners (single)": single[
            "concurrent_joins"
        ]["joins_per_s"]
        >= TARGET_JOINS_PER_S,
        f"join p95 ≤ {TARGET_P95_MS:g} ms under one inviter of {result['fan_out_recruits']:,} "
        f"(fan-out, {result['workers']} joiners)": fan["concurrent_joins"]["p95_ms"]
        <= TARGET_P95_MS,
        f"import ≤ {TARGET_IMPORT_S_PER_1000} s per 1000 rows (single)": single["import"][
            "s_per_1000"
        ]
        <= TARGET_IMPORT_S_PER_1000,
        "every tree valid": valid,
    }
    lines.append("")
    for label, ok in targets.items():
        lines.append(f"  {'met   ' if ok else 'MISSED'} {label}")
    if not valid:
        lines.append(f"  problems: {result['single_tree']['check']['first_problems']}")
    return "\n".join(lines), valid, all(targets.values())


def _pair(t: dict) -> str:
    return f"{t['median_ms']} / {t['p95_ms']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=100_000, help="distributors per network")
    parser.add_argument("--joins", type=int, default=1000, help="sequential joins per network")
    parser.add_argument(
        "--concurrent-joins", type=int, default=2000, help="concurrent joins per network, in all"
    )
    parser.add_argument("--workers", type=int, default=8, help="concurrent joiner processes")
    parser.add_argument(
        "--fan-out",
        type=int,
        default=20_000,
        help="direct recruits of the one inviter of the fan-out network (default 20000)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        parser.error("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    bench_name = environ.Env.db_url_config(url)["NAME"] + "_bench_tree"
    parts = urlsplit(url)
    bench_url = urlunsplit(parts._replace(path="/" + bench_name))
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
            with platform_scope(reason="bench: the networks and the checks"):
                result = run(args)
        finally:
            connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(url, bench_name)
    text, valid, targets_met = report(result)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"distributor_tree-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\n  written: {path.relative_to(ROOT)}")
    return 0 if valid and (targets_met or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
