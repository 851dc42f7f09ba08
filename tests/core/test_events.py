"""The domain event registry: handlers run at once, in order, in the publisher's transaction."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from apps.core import events


@dataclass(frozen=True, kw_only=True)
class Happened(events.Event):
    value: int


@dataclass(frozen=True, kw_only=True)
class Unheard(events.Event):
    pass


@pytest.fixture
def registry(monkeypatch):
    """A fresh registry for the test, so the project's own handlers are left alone."""
    monkeypatch.setattr(events, "_handlers", events.defaultdict(list))
    return events


def test_handlers_run_in_subscription_order_with_the_event(registry):
    calls = []
    registry.handler(Happened)(lambda event: calls.append(("first", event.value)))
    registry.handler(Happened)(lambda event: calls.append(("second", event.value)))

    registry.publish(Happened(value=7))

    assert calls == [("first", 7), ("second", 7)]


def test_an_event_with_no_handler_does_nothing(registry):
    registry.publish(Unheard())

    assert registry.subscriptions() == {}


def test_subscribing_the_same_function_twice_runs_it_once(registry):
    calls = []

    def record(event):
        calls.append(event.value)

    registry.handler(Happened)(record)
    registry.handler(Happened)(record)
    registry.publish(Happened(value=1))

    assert calls == [1]


def test_only_event_types_can_be_subscribed(registry):
    with pytest.raises(TypeError):
        registry.handler(int)  # type: ignore[arg-type]


def test_a_handler_error_reaches_the_publisher_and_rolls_back_its_writes(registry, db):
    def write_then_fail(event):
        get_user_model().objects.create(username="written-by-handler")
        raise RuntimeError("handler failed")

    registry.handler(Happened)(write_then_fail)

    with pytest.raises(RuntimeError, match="handler failed"), transaction.atomic():
        registry.publish(Happened(value=1))

    assert not get_user_model().objects.filter(username="written-by-handler").exists()


def test_captured_records_what_was_published_inside_the_block(registry):
    registry.publish(Happened(value=1))
    with registry.captured() as seen:
        registry.publish(Happened(value=2))
        registry.publish(Unheard())
    registry.publish(Happened(value=3))

    assert seen == [Happened(value=2), Unheard()]


def test_events_are_immutable():
    event = Happened(value=1)
    with pytest.raises(AttributeError):
        event.value = 2  # type: ignore[misc]


def test_the_events_command_lists_each_event_with_its_handlers(registry, capsys):
    def settle(event):
        pass

    registry.handler(Happened)(settle)

    call_command("events")

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{__name__}.Happened",
        f"    → {__name__}.test_the_events_command_lists_each_event_with_its_handlers.<locals>.settle",
    ]
