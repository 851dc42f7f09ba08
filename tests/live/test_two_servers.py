"""Scale-out: two real daphne processes share the Redis channel layer, so a chat message sent to
one reaches a viewer connected to the other, and both count the same viewers."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import connect

from apps.live import services

from ..factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_daphne(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),  # the test database, where this test's rows commit
        "REDIS_URL": settings.REDIS_URL,
        "FENXIAO_CHANNEL_REDIS_URL": settings.CHANNEL_REDIS_URL,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_listening(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"daphne did not listen on {port}")


@pytest.fixture
def two_servers():
    ports = [_free_port(), _free_port()]
    processes = [_start_daphne(port) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_listening(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _next_of(ws, kind: str, predicate=lambda message: True) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        for message in frame["messages"] if frame["type"] == "batch" else [frame]:
            if message["type"] == kind and predicate(message):
                return message


def test_a_message_sent_to_one_server_reaches_a_viewer_on_the_other(room_world, two_servers):
    room = room_world["room"]
    services.room_start(room=room, actor=None)
    speaker = UserFactory(nickname="Alice")
    browser = Client()
    browser.force_login(speaker)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    port_a, port_b = two_servers
    path = f"/ws/s/{room.merchant.slug}/live/{room.pk}/"

    async def scenario() -> tuple[dict, dict, dict]:
        async with connect(f"ws://127.0.0.1:{port_b}{path}", origin="http://127.0.0.1") as viewer:
            welcome_viewer = await _next_of(viewer, "welcome")
            async with connect(
                f"ws://127.0.0.1:{port_a}{path}",
                origin="http://127.0.0.1",
                additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
            ) as sender:
                welcome_sender = await _next_of(sender, "welcome")
                # Both processes count the same viewers (Redis), whichever socket they hold.
                await _next_of(viewer, "stats", lambda message: message["viewers"] == 2)
                await sender.send(json.dumps({"type": "chat", "text": "hello from server A"}))
                received = await _next_of(viewer, "chat")
                return welcome_viewer, welcome_sender, received

    welcome_viewer, welcome_sender, received = asyncio.run(scenario())
    assert welcome_viewer["you"]["signed_in"] is False
    assert welcome_sender["you"]["signed_in"] is True
    assert welcome_sender["you"]["user_id"] == speaker.pk
    assert (received["text"], received["user_id"], received["name"]) == (
        "hello from server A",
        speaker.pk,
        "A*",
    )


def test_the_channel_prefix_carries_the_redis_database_number():
    # Redis pub/sub ignores the database number: without it in the prefix, two sites (or two test
    # runs) on one Redis server with different databases would hear each other's rooms.
    from config.settings.base import redis_database

    assert redis_database("redis://127.0.0.1:6379/7") == "7"
    assert redis_database("redis://127.0.0.1:6379") == "0"
    assert redis_database("unix:///tmp/r.sock?db=3") == "3"
    layer = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    assert layer["prefix"] == f"fenxiao.db{redis_database(layer['hosts'][0])}"
