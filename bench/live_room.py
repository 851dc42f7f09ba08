"""A live room under load: thousands of WebSocket viewers across two daphne processes.

Two ``daphne config.asgi:application`` processes share the Redis channel layer (pub/sub). Viewers
(``--viewers``, 2,000) connect alternately to the two, from ``--client-processes`` (2) asyncio
client processes so that the clients do not starve on one core. Then, for ``--seconds`` (30),
``--chatters`` (20) signed-in users each send a chat message a second (staggered) and the host pins
a product every 5 s. Every viewer records when each chat message and each pin reaches it. Room
events reach the viewers coalesced (``batch`` frames, README "The room's WebSocket"); a client
process parses each distinct frame once (every viewer of a server receives the same frame) and
only counts its receipts, so a message's receipts and its last receipt stay exact per message.

Printed: the load average (at the start and at the end of the load), messages delivered per
second (receipts by viewers ÷ the time from the first send to the last receipt), fan-out latency
p50/p95/p99 from the send to the *last* viewer's receipt of that message, lost messages (a viewer
that never received one; must be 0), the refused sends (rate limit), and the server processes'
resident memory. Target: p99 ≤ 250 ms, nothing lost. ``--batch-ms`` sets the servers' window.

The floor it is measured beside: the same two processes delivering a single ``ping``/``pong``
round trip on an idle socket (the cost of one hop through daphne without the fan-out), measured in
the same run.

Runs against its own throwaway database ``<DATABASE_URL's name>_bench_live`` (dropped at the end
unless ``--keep-db``) and the Redis of ``REDIS_URL`` / ``FENXIAO_CHANNEL_REDIS_URL``::

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/live_room.py [--viewers 2000]

The bench raises the chat rate limit (``FENXIAO_LIVE_CHAT_MESSAGES=30`` per 10 s) for the servers
so that a chatter sending once a second is never refused at a window's edge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

TARGET_P99_MS = 250.0
PIN_EVERY_SECONDS = 5.0
DRAIN_SECONDS = 5.0
CHAT_MARK = "bench:"
CONNECTING_AT_ONCE = 10  # handshakes in flight per client process
CONNECT_ATTEMPTS = 20


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- client worker process (a share of the viewers) ----------------------------------------------


def _frame_contents(raw: bytes) -> list:
    """What a frame (one event, or a ``batch`` of them) carries for the bench: its chat keys and
    how many pins; ``[chat keys, pins, receipts, last receipt]``."""
    frame = json.loads(raw)
    messages = frame["messages"] if frame.get("type") == "batch" else [frame]
    chats = [
        "c" + message["text"][len(CHAT_MARK) :]
        for message in messages
        if message.get("type") == "chat" and str(message.get("text", "")).startswith(CHAT_MARK)
    ]
    pins = sum(1 for message in messages if message.get("type") == "pinned")
    return [chats, pins, 0, 0.0]


class _ViewerSocket:
    """A viewer's WebSocket, read with as little work per frame as the protocol allows.

    Thousands of viewers share the client processes, and every frame reaches every one of them: a
    general client library's frame handling (decoding, queueing, a future per message) was the
    clients' share of the machine. A server's frames are unmasked and, from daphne, never
    fragmented: two header bytes, a length, the payload. Pings are answered (daphne closes a
    socket that does not); the payload is kept as bytes (frames are counted, not read, except
    the first of each kind, ``_frame_contents``)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url: str, timeout: float = 120) -> _ViewerSocket:
        import base64

        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\nOrigin: http://127.0.0.1\r\n\r\n".encode()
        )
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except BaseException:
            writer.close()
            raise
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode("latin-1"))
        return cls(reader, writer)

    async def recv(self) -> bytes | None:
        """The next text frame's payload; None once the server closed."""
        read = self.reader.readexactly
        while True:
            first, second = await read(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await read(2), "big")
            elif length == 127:
                length = int.from_bytes(await read(8), "big")
            payload = await read(length) if length else b""
            opcode = first & 0x0F
            if opcode == 0x1:
                return payload
            if opcode == 0x8:
                return None
            if opcode == 0x9:  # ping: a masked pong with the same payload
                mask = os.urandom(4)
                masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
                self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        self.writer.close()


async def _viewer(
    url: str,
    frames: dict,
    receipts: dict,
    ready: asyncio.Event,
    counter: list[int],
    total: int,
    connecting: asyncio.Semaphore,
):
    pins = 0
    # A bounded number of handshakes in flight (a room fills over seconds, not in one burst; a
    # thousand at once would each wait longer than any handshake timeout for the server's turn).
    # A handshake the server drops (autobahn in daphne gives each 5 s) is retried with a backoff,
    # as the page's client does.
    async with connecting:
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                ws = await _ViewerSocket.connect(url)
                if await ws.recv() is None:  # the welcome
                    raise ConnectionError("closed before the welcome")
                break
            except (OSError, EOFError):
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise
                counter[1] += 1
                await asyncio.sleep(min(0.5 * (attempt + 1), 5.0))
    counter[0] += 1
    if counter[0] == total:
        ready.set()
    try:
        while (raw := await ws.recv()) is not None:
            now = time.time()
            # The same frame reaches every viewer of a server: parsed once per process, then
            # each receipt only counts it (its messages' receipts are summed at the end).
            seen = frames.get(raw)
            if seen is None:
                seen = frames[raw] = _frame_contents(raw)
            seen[2] += 1
            if now > seen[3]:
                seen[3] = now
            for _pin in range(seen[1]):  # a viewer's n-th pin (one every few seconds)
                pins += 1
                key = f"p{pins}"
                pinned = receipts.get(key)
                if pinned is None:
                    receipts[key] = [1, now]
                else:
                    pinned[0] += 1
                    pinned[1] = max(pinned[1], now)
        raise ConnectionError("the server closed the socket")  # counted as a failed viewer
    finally:
        ws.close()


async def _worker(urls: list[str]) -> None:
    frames: dict[bytes, list] = {}
    receipts: dict[str, list] = {}
    ready = asyncio.Event()
    counter = [0, 0]  # viewers connected, handshakes retried
    connecting = asyncio.Semaphore(CONNECTING_AT_ONCE)
    tasks = [
        asyncio.create_task(_viewer(url, frames, receipts, ready, counter, len(urls), connecting))
        for url in urls
    ]
    waiting = asyncio.create_task(ready.wait())
    while not ready.is_set():
        await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        broken = [task for task in tasks if task.done() and task.exception() is not None]
        if broken and not ready.is_set():  # say why at once, instead of waiting for the timeout
            print(f"FAILED {len(broken)} viewers: {broken[0].exception()!r}", flush=True)
            return
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # STOP
    failed = sum(1 for task in tasks if task.done() and task.exception() is not None)
    for chats, _pins, count, last in frames.values():
        for key in chats:
            seen = receipts.setdefault(key, [0, 0.0])
            seen[0] += count
            seen[1] = max(seen[1], last)
    print(json.dumps({"receipts": receipts, "failed": failed, "retried": counter[1]}), flush=True)
    for task in tasks:
        task.cancel()


# --- the bench (parent) -------------------------------------------------------------------------


def bench_database_url(url: str) -> tuple[str, str]:
    import environ

    name = environ.Env.db_url_config(url)["NAME"] + "_bench_live"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name)), name


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


class Fixture:
    def __init__(self, chatters: int) -> None:
        from datetime import timedelta
        from decimal import Decimal

        from django.conf import settings
        from django.test import Client
        from django.utils import timezone

        from apps.accounts.models import User
        from apps.live.models import LiveRoom
        from apps.live.services import live_price_set, room_product_add, room_start
        from apps.merchants.services import merchant_create
        from apps.products.models import Product, Sku

        owner = User.objects.create_user("bench_live_owner")
        self.merchant = merchant_create(name="Bench live", slug="bench-live", owner=owner)
        self.room = LiveRoom.objects.create(
            merchant=self.merchant,
            title="Bench room",
            starts_at=timezone.now() - timedelta(minutes=1),
            stream_url="https://streams.example.com/bench.m3u8",
        )
        self.products = []
        for name in ("龙井", "碧螺春"):
            product = Product.objects.create(merchant=self.merchant, name=name)
            sku = Sku.objects.create(
                merchant=self.merchant, product=product, name="250 g", code=name, price=100, stock=9
            )
            room_product_add(room=self.room, product_id=product.pk)
            live_price_set(room=self.room, sku_id=sku.pk, price=Decimal("80.00"))
            self.products.append(product.pk)
        room_start(room=self.room, actor=owner)

        def cookie(user: User) -> str:
            browser = Client()
            browser.force_login(user)
            return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"

        self.host_cookie = cookie(owner)
        self.chatter_cookies = [
            cookie(User.objects.create_user(f"bench_chatter_{index}")) for index in range(chatters)
        ]
        from apps.live import presence

        presence.room_forget(self.room.pk)


async def _drain(ws) -> list[str]:
    errors = []
    async for raw in ws:
        if raw.startswith('{"type": "error"'):
            errors.append(json.loads(raw)["code"])
    return errors


async def _floor(urls: list[str], rounds: int = 200) -> list[float]:
    """ping → pong round trips on idle sockets, one per server, in this process."""
    from websockets.asyncio.client import connect

    times = []
    for url in urls:
        async with connect(url, origin="http://127.0.0.1", ping_interval=None) as ws:
            await ws.recv()
            for _ in range(rounds):
                started = time.perf_counter()
                await ws.send('{"type": "ping"}')
                while True:
                    if (await ws.recv()).startswith('{"type": "pong"'):
                        break
                times.append((time.perf_counter() - started) * 1000)
    return times


async def _load(args, fixture: Fixture, urls: list[str]) -> tuple[dict, dict, dict]:
    from websockets.asyncio.client import connect

    sent: dict[str, float] = {}
    sockets = []
    for index, cookie in enumerate(fixture.chatter_cookies + [fixture.host_cookie]):
        ws = await connect(
            urls[index % 2],
            origin="http://127.0.0.1",
            additional_headers={"Cookie": cookie},
            max_queue=None,
            ping_interval=None,
        )
        await ws.recv()
        sockets.append(ws)
    chatters, host = sockets[:-1], sockets[-1]
    drains = [asyncio.create_task(_drain(ws)) for ws in sockets]
    started = time.time()
    seq = 0

    async def chatter(ws, offset: float) -> None:
        nonlocal seq
        await asyncio.sleep(offset)
        next_at = time.time()
        while time.time() - started < args.seconds:
            seq += 1
            key = str(seq)
            sent["c" + key] = time.time()
            await ws.send(json.dumps({"type": "chat", "text": f"bench:{key}"}))
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.time()))

    async def pinner() -> None:
        pins = 0
        while time.time() - started < args.seconds:
            pins += 1
            sent[f"p{pins}"] = time.time()
            product = fixture.products[pins % 2]
            await host.send(json.dumps({"type": "pin", "product_id": product}))
            await asyncio.sleep(PIN_EVERY_SECONDS)

    await asyncio.gather(
        pinner(),
        *[chatter(ws, index / len(chatters)) for index, ws in enumerate(chatters)],
    )
    await asyncio.sleep(DRAIN_SECONDS)
    for ws in sockets:
        await ws.close()
    errors: dict[str, int] = {}
    for drain in drains:
        for code in await drain:
            errors[code] = errors.get(code, 0) + 1
    return sent, errors, {"started": started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--chatters", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--batch-ms",
        type=int,
        default=None,
        help="the servers' FENXIAO_LIVE_BATCH_MILLISECONDS (default: the setting's, 150)",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--connect-timeout", type=float, default=300.0, help="give up connecting after this"
    )
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_worker:
        asyncio.run(_worker(args.urls.split(",")))
        return

    sys.path.insert(0, str(ROOT / "bench"))
    from order_placement import create_database, drop_database

    from config.embedded import services_env

    os.environ.update(services_env(missing_only=True))
    base_url = os.environ["DATABASE_URL"]
    url, name = bench_database_url(base_url)
    create_database(base_url, name)
    os.environ["DATABASE_URL"] = url
    servers: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    load_before = os.getloadavg()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print("  database migrated", file=sys.stderr)
        from apps.tenancy.scope import platform_scope

        with platform_scope(reason="bench: the live room's fixture"):  # row-level security
            fixture = Fixture(args.chatters)
        ports = [_free_port(), _free_port()]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL,
            "FENXIAO_CHANNEL_REDIS_URL": settings.CHANNEL_REDIS_URL,
            "FENXIAO_LIVE_CHAT_MESSAGES": "30",
            "DATABASE_CONN_MAX_AGE": "60",
        }
        if args.batch_ms is not None:
            env["FENXIAO_LIVE_BATCH_MILLISECONDS"] = str(args.batch_ms)
        batch_ms = int(
            env.get("FENXIAO_LIVE_BATCH_MILLISECONDS", settings.FENXIAO_LIVE_BATCH_MILLISECONDS)
        )
        for port in ports:
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                     "config.asgi:application"],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        _wait_listening(ports)
        path = f"/ws/s/{fixture.merchant.slug}/live/{fixture.room.pk}/"
        urls = [f"ws://127.0.0.1:{port}{path}" for port in ports]
        floor = asyncio.run(_floor(urls))
        rss_idle = [_rss_mb(server.pid) for server in servers]
        per_worker = [
            [urls[i % 2] for i in range(k, args.viewers, args.client_processes)]
            for k in range(args.client_processes)
        ]
        connect_started = time.time()
        for share in per_worker:
            workers.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--client-worker", "--urls", ",".join(share)],
                    cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                )
            )  # fmt: skip
        for worker in workers:
            ready = asyncio.run(
                asyncio.wait_for(
                    asyncio.to_thread(worker.stdout.readline),  # type: ignore[union-attr]
                    timeout=args.connect_timeout,
                )
            )
            line = ready.strip()
            if line != "READY":
                raise SystemExit(f"a client process failed to connect its viewers: {line!r}")
        connect_seconds = time.time() - connect_started
        print(f"  {args.viewers} viewers connected in {connect_seconds:.1f} s", file=sys.stderr)
        sent, errors, _meta = asyncio.run(_load(args, fixture, urls))
        rss_loaded = [_rss_mb(server.pid) for server in servers]
        load_during = os.getloadavg()
        results = []
        for worker in workers:
            out, _err = worker.communicate("STOP\n", timeout=120)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in servers + workers:
            if process.poll() is None:
                process.terminate()
        for process in servers + workers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(base_url, name)

    counts: dict[str, int] = {}
    last: dict[str, float] = {}
    failed = retried = 0
    for result in results:
        failed += result["failed"]
        retried += result.get("retried", 0)
        for key, (count, at) in result["receipts"].items():
            counts[key] = counts.get(key, 0) + count
            last[key] = max(last.get(key, 0.0), at)
    expected = args.viewers
    lost = sum(expected - counts.get(key, 0) for key in sent)
    latencies = [(last[key] - sent[key]) * 1000 for key in sent if key in last]
    delivered = sum(counts.get(key, 0) for key in sent)
    span = max(last.values()) - min(sent.values()) if last else float("nan")
    chats = sum(1 for key in sent if key.startswith("c"))
    pins = len(sent) - chats
    print(f"viewers {args.viewers} on 2 daphne processes (connected in {connect_seconds:.1f} s), "
          f"{args.chatters} chatters × 1/s, a pin every {PIN_EVERY_SECONDS:.0f} s, "
          f"{args.seconds:.0f} s, batch window {batch_ms} ms; handshakes retried: {retried}")  # fmt: skip
    print(
        "  load average (1/5/15 min): at the start "
        + "/".join(f"{value:.1f}" for value in load_before)
        + ", at the end of the load "
        + "/".join(f"{value:.1f}" for value in load_during)
    )
    print(f"  sent: {chats} chat messages, {pins} pins; refused sends: {errors or 'none'}")
    print(f"  delivered: {delivered} receipts, {delivered / span:,.0f} messages/s")
    if latencies:
        print(
            "  fan-out latency (send → last viewer): "
            f"p50 {_percentile(latencies, 50):.0f} ms, p95 {_percentile(latencies, 95):.0f} ms, "
            f"p99 {_percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms"
        )
    print(f"  lost: {lost} (viewer sockets that failed: {failed})")
    print(
        "  server memory (RSS): idle "
        + ", ".join(f"{mb:.0f} MB" for mb in rss_idle)
        + "; loaded "
        + ", ".join(f"{mb:.0f} MB" for mb in rss_loaded)
    )
    print(
        f"  floor: ping→pong round trip on an idle socket p50 {_percentile(floor, 50):.1f} ms, "
        f"p99 {_percentile(floor, 99):.1f} ms"
    )
    p99 = _percentile(latencies, 99) if latencies else float("inf")
    ok = lost == 0 and failed == 0 and p99 <= TARGET_P99_MS
    print(f"  target p99 ≤ {TARGET_P99_MS:.0f} ms and nothing lost: {'met' if ok else 'NOT met'}")


def _wait_listening(ports: list[int], seconds: float = 60) -> None:
    import socket

    deadline = time.monotonic() + seconds
    for port in ports:
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"daphne did not listen on port {port}")
            time.sleep(0.2)


if __name__ == "__main__":
    main()
