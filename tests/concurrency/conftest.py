import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from apps.commissions import tasks as commission_tasks

BARRIER_TIMEOUT = 30.0
JOIN_TIMEOUT = 120.0


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def race(calls: Sequence[Callable[[], Any]]) -> list[Outcome]:
    """Run every call in its own thread (its own DB connection), all released at once by a barrier.

    Returns one Outcome per call, in the order given: the value returned or the exception raised.
    """
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)
    outcomes = [Outcome() for _ in calls]

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index].value = call()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[index].error = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


@pytest.fixture
def settlements_enqueued(monkeypatch):
    """Record settlement enqueues instead of publishing them (no worker runs in these tests)."""
    calls: list[int] = []
    monkeypatch.setattr(commission_tasks.commission_settle_order_task, "delay", calls.append)
    return calls
