"""Flash sale (秒杀) against the plain checkout of the same kind of SKU, side by side.

What is measured: ``--buyers`` consumers (1,000 by default), ``--clients`` at a time (8 threads,
each on its own database connection), each placing a one-unit order through
``apps.orders.services.order_place`` — the service the storefront, buy-now and the API run — for a
SKU in an open flash sale, first with a 100-unit pool (most attempts are told "sold out"), then
with a 10,000-unit pool (every buyer gets one); and, in the same run, the same buyers on a plain
SKU with enough stock. Printed per run: orders/s, attempts/s, p50/p95 ms per purchase attempt,
sold units (must equal the pool, or the buyers' demand), and the ratio of the flash path's
throughput to the plain checkout's.

Why the flash path can keep up: its pool row is taken by a conditional ``UPDATE`` as the last
statement of the placing transaction, so the one hot row is locked only for the commit, where the
plain checkout holds its SKU row from the first statement to the commit.

Runs against its own throwaway database ``<DATABASE_URL's name>_flash_bench`` (created, migrated,
dropped at the end). Usage::

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/flash_sale.py [--buyers 1000]

Exit status 1 when a run oversells or sells a different number of units than it should (exact),
and with ``--strict`` also when the 10,000-unit ratio is below 1.0 (it moves with the load).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from order_placement import bench_database_url, create_database, drop_database  # noqa: E402


def run_side(*, label, merchant, sku_id, buyers, clients, recipient) -> dict:  # type: ignore[no-untyped-def]
    from django.db import connection

    from apps.core.errors import DomainError
    from apps.orders.services import order_place
    from apps.tenancy.scope import tenant_scope

    timings: list[float] = []
    sold = 0
    refused: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(chunk):  # type: ignore[no-untyped-def]
        nonlocal sold
        barrier.wait()
        try:
            for buyer in chunk:
                start = time.perf_counter()
                try:
                    # In the store's scope, as the storefront's middleware runs a checkout (a
                    # thread starts outside every scope).
                    with tenant_scope(merchant):
                        order_place(
                            merchant=merchant,
                            customer=buyer,
                            lines=[(sku_id, 1)],
                            recipient=recipient,
                        )
                    ok, code = True, ""
                except DomainError as error:
                    ok, code = False, error.code
                elapsed = time.perf_counter() - start
                with lock:
                    timings.append(elapsed)
                    if ok:
                        sold += 1
                    else:
                        refused[code] = refused.get(code, 0) + 1
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(buyers[index::clients],)) for index in range(clients)
    ]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    ordered = sorted(timings)
    return {
        "label": label,
        "sold": sold,
        "refused": refused,
        "orders_per_second": sold / wall,
        "attempts_per_second": len(timings) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000,
        "seconds": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        parser.error("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    bench_url, name = bench_database_url(url)
    name = name.replace("_bench", "_flash_bench")
    bench_url = bench_url.rsplit("/", 1)[0] + "/" + name
    create_database(url, name)
    os.environ["DATABASE_URL"] = bench_url
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from apps.tenancy.scope import platform_scope

        call_command("migrate", verbosity=0)
        # The fixture and the checks in the platform scope; each buyer's checkout in the store's.
        with platform_scope(reason="bench: the flash-sale fixture and the checks"):
            return _bench(args)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(url, name)


def _bench(args: argparse.Namespace) -> int:
    from django.db.models import Sum
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.marketing.models import FlashSale
    from apps.marketing.services import flash_sale_create
    from apps.merchants.services import merchant_create
    from apps.orders.models import OrderLine
    from apps.orders.services import Recipient
    from apps.products.models import Product, Sku

    owner = User.objects.create_user("flash_owner")
    merchant = merchant_create(name="Flash store", slug="flash-store", owner=owner)
    product = Product.objects.create(merchant=merchant, name="铁观音")
    recipient = Recipient("李雷", "13800000000", "上海市南京东路 1 号")
    now = timezone.now()
    ok = True
    results = []
    runs = []
    load_before = os.getloadavg()
    print(
        f"flash sale: {args.buyers} buyers, {args.clients} clients; machine: {os.cpu_count()} CPUs, "
        f"1-min load average {load_before[0]:.1f} before"
    )
    for pool in (100, 10_000):
        buyers = [User.objects.create_user(f"flash_{pool}_{index}") for index in range(args.buyers)]
        flash_sku, plain_sku = Sku.objects.bulk_create(
            Sku(
                merchant=merchant,
                product=product,
                name=f"{kind} {pool}",
                code=f"{kind}-{pool}",
                price=Decimal("88.00"),
                stock=pool + args.buyers * 2,
            )
            for kind in ("flash", "plain")
        )
        sale = flash_sale_create(
            merchant=merchant,
            sku=flash_sku,
            name=f"秒杀 {pool}",
            price=Decimal("9.90"),
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=2),
            pool=pool,
            per_person_limit=1,
        )
        plain = run_side(
            label=f"plain checkout ({args.buyers} buyers)",
            merchant=merchant,
            sku_id=plain_sku.pk,
            buyers=buyers,
            clients=args.clients,
            recipient=recipient,
        )
        flash = run_side(
            label=f"flash sale, pool {pool}",
            merchant=merchant,
            sku_id=flash_sku.pk,
            buyers=buyers,
            clients=args.clients,
            recipient=recipient,
        )
        expected = min(pool, args.buyers)
        units = OrderLine.objects.filter(sku=flash_sku).aggregate(units=Sum("quantity"))["units"]
        left = FlashSale.objects.get(pk=sale.pk).remaining
        own_stock = Sku.objects.get(pk=flash_sku.pk).stock
        exact = (
            flash["sold"] == expected
            and units == expected
            and left == pool - expected
            and own_stock == args.buyers * 2
        )
        ok &= exact
        ratio = flash["attempts_per_second"] / plain["attempts_per_second"]
        results.append((pool, ratio))
        for side in (plain, flash):
            print(
                f"{side['label']:<32} {side['orders_per_second']:8.1f} orders/s "
                f"{side['attempts_per_second']:8.1f} attempts/s  p50 {side['p50_ms']:6.1f} ms  "
                f"p95 {side['p95_ms']:6.1f} ms  sold {side['sold']}  refused {side['refused']}"
            )
        print(
            f"  pool {pool}: sold {units} of {expected} expected, pool left {left}, SKU's own "
            f"stock {own_stock} (untouched: {args.buyers * 2}) — {'exact' if exact else 'WRONG'}; "
            f"flash/plain attempts ratio {ratio:.2f} (target ≥ 1.0: "
            f"{'met' if ratio >= 1.0 else 'MISSED'}); 1-min load average {os.getloadavg()[0]:.1f}"
        )
        runs.append({"pool": pool, "plain": plain, "flash": flash, "exact": exact, "ratio": ratio})
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"flash_sale-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    record = {
        "benchmark": "flash_sale",
        "buyers": args.buyers,
        "clients": args.clients,
        "runs": runs,
        "cpus": os.cpu_count(),
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"  written: {path.relative_to(ROOT)}")
    if not ok:
        print("FAILED: a flash sale sold a different number of units than its pool allows")
        return 1
    if args.strict and results[-1][1] < 1.0:
        print("FAILED (--strict): the flash path is slower than the plain checkout")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
