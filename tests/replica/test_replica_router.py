"""The read-replica router against a real streaming replica (tests/support/replica.py).

Given a primary and a hot standby streaming from it, with ``ReplicaRouter`` installed for them:
which server answers is read from the rows themselves — the replay on the replica is paused, a row
is changed on the primary, and the old value can only have come from the replica.
"""

from __future__ import annotations

import time

import pytest
from auditlog.context import disable_auditlog
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from apps.core.replica import WROTE_COOKIE, ReplicaReadMiddleware, ReplicaRouter, replica_reads
from apps.merchants.models import Merchant
from apps.tenancy import rls
from apps.tenancy.scope import app_role, owner_connection
from tests.support.replica import StreamingPair

pytestmark = pytest.mark.slow

PRIMARY, REPLICA = "replica_test_primary", "replica_test_replica"


@pytest.fixture(scope="module")
def pair(tmp_path_factory, django_db_blocker):
    streaming = StreamingPair(base=tmp_path_factory.mktemp("streaming"))
    streaming.start()
    base = connections.settings["default"]
    connections.settings[PRIMARY] = streaming.database_settings(base, replica=False)
    connections.settings[REPLICA] = streaming.database_settings(base, replica=True)
    with django_db_blocker.unblock():
        # Set up as the owner, as `migrate` does: the merchants' table, and the application
        # role (cluster-wide, so the replica has it too) with its grants; the tests' own
        # connections then run as that role like every other connection of the suite.
        with owner_connection("the replica tests' own primary"):
            with connections[PRIMARY].schema_editor() as editor:
                editor.create_model(Merchant)
            with connections[PRIMARY].cursor() as cursor:
                rls.ensure_role(cursor, app_role())
                rls.grant(cursor, app_role())
            connections[PRIMARY].close()
        streaming.wait_replayed(primary_lsn())
        yield streaming
        for alias in (PRIMARY, REPLICA):
            connections[alias].close()
    del connections.settings[PRIMARY], connections.settings[REPLICA]
    streaming.stop()


@pytest.fixture
def replica_router(pair, monkeypatch, django_db_blocker):
    routing = ReplicaRouter(primary=PRIMARY, replica=REPLICA)
    monkeypatch.setattr(router, "routers", [routing])
    # The pair holds only the merchants' table: the audit trail (its own table, and a merchant's
    # settings rows) is not what these tests are about.
    with (
        django_db_blocker.unblock(),
        disable_auditlog(),
        override_settings(
            FENXIAO_REPLICA_CHECK_SECONDS=0,
            FENXIAO_REPLICA_MAX_LAG_SECONDS=60,
            FENXIAO_REPLICA_READ_YOUR_WRITES_SECONDS=5,
        ),
    ):
        yield routing
        pair.replica_sql("SELECT pg_wal_replay_resume()")


def primary_lsn() -> str:
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def store(pair: StreamingPair, slug: str) -> Merchant:
    merchant = Merchant.objects.create(name="before", slug=slug, status="active")
    pair.wait_replayed(primary_lsn())
    return merchant


def renamed_while_replay_paused(pair: StreamingPair, merchant: Merchant) -> None:
    """The replica stops replaying; the primary renames the store to "after"."""
    pair.replica_sql("SELECT pg_wal_replay_pause()")
    Merchant.objects.filter(pk=merchant.pk).update(name="after")


def page(request) -> HttpResponse:  # type: ignore[no-untyped-def]
    """A view reading the store: the body says which name it saw and from which database."""
    merchant = Merchant.objects.get(slug=request.GET["slug"])
    return HttpResponse(f"{merchant.name}@{merchant._state.db}")


def through_middleware(request) -> str:  # type: ignore[no-untyped-def]
    return ReplicaReadMiddleware(page)(request).content.decode()


def test_a_safe_request_reads_from_the_replica(pair, replica_router):
    merchant = store(pair, "safe-read")
    renamed_while_replay_paused(pair, merchant)

    seen = through_middleware(RequestFactory().get("/", {"slug": "safe-read"}))

    assert seen == f"before@{REPLICA}"


def test_writes_and_reads_outside_a_request_use_the_primary(pair, replica_router):
    with replica_reads():
        created = Merchant.objects.create(name="before", slug="written", status="active")
    merchant = store(pair, "outside")
    renamed_while_replay_paused(pair, merchant)

    assert created._state.db == PRIMARY
    # A task, a command, the shell: no request scope.
    assert Merchant.objects.get(pk=merchant.pk).name == "after"


def test_reads_inside_a_transaction_use_the_primary(pair, replica_router):
    merchant = store(pair, "in-transaction")
    renamed_while_replay_paused(pair, merchant)

    with replica_reads(), transaction.atomic(using=PRIMARY):
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        plain = Merchant.objects.get(pk=merchant.pk)

    assert (locked.name, locked._state.db) == ("after", PRIMARY)
    assert (plain.name, plain._state.db) == ("after", PRIMARY)


def test_a_browser_that_just_wrote_reads_its_write_from_the_primary(pair, replica_router):
    merchant = store(pair, "own-write")
    renamed_while_replay_paused(pair, merchant)
    post = RequestFactory().post("/", {"slug": "own-write"})
    written = ReplicaReadMiddleware(lambda request: HttpResponse("ok"))(post)
    cookie = written.cookies[WROTE_COOKIE]

    request = RequestFactory().get("/", {"slug": "own-write"})
    request.COOKIES[WROTE_COOKIE] = cookie.value
    seen = through_middleware(request)

    assert cookie["max-age"] == 5
    assert seen == f"after@{PRIMARY}"
    # Someone else, without the cookie, is served by the replica.
    assert through_middleware(RequestFactory().get("/", {"slug": "own-write"})) == (
        f"before@{REPLICA}"
    )


def test_an_api_client_that_just_wrote_reads_its_write_from_the_primary(pair, replica_router):
    merchant = store(pair, "api-write")
    renamed_while_replay_paused(pair, merchant)
    token = {"HTTP_AUTHORIZATION": "Token 0123456789abcdef"}
    ReplicaReadMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().post("/", **token))

    same_client = through_middleware(RequestFactory().get("/", {"slug": "api-write"}, **token))
    other_client = through_middleware(
        RequestFactory().get(
            "/", {"slug": "api-write"}, HTTP_AUTHORIZATION="Token fedcba9876543210"
        )
    )

    assert same_client == f"after@{PRIMARY}"
    assert other_client == f"before@{REPLICA}"


def test_a_replica_lagging_beyond_the_bound_is_left_for_the_primary(pair, replica_router):
    merchant = store(pair, "lagging")
    renamed_while_replay_paused(pair, merchant)
    time.sleep(1.2)  # the last transaction the replica replayed is now over a second old

    with override_settings(FENXIAO_REPLICA_MAX_LAG_SECONDS=1):
        lagging = through_middleware(RequestFactory().get("/", {"slug": "lagging"}))
    within_a_larger_bound = through_middleware(RequestFactory().get("/", {"slug": "lagging"}))

    assert lagging == f"after@{PRIMARY}"
    assert replica_router.health.lag_seconds is not None
    assert within_a_larger_bound == f"before@{REPLICA}"


def test_a_replica_that_is_down_is_left_for_the_primary_until_it_is_back(pair, replica_router):
    merchant = store(pair, "down")
    pair.stop_replica()
    try:
        while_down = through_middleware(RequestFactory().get("/", {"slug": "down"}))
        health_while_down = replica_router.health.healthy
    finally:
        pair.start_replica()
    pair.wait_replayed(primary_lsn())
    Merchant.objects.filter(pk=merchant.pk).update(name="after")

    back = through_middleware(RequestFactory().get("/", {"slug": "down"}))

    assert while_down == f"before@{PRIMARY}"
    assert health_while_down is False
    assert back == f"after@{REPLICA}"
