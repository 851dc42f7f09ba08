"""Domain events: the one way a lower app starts a higher app's work without importing it.

Apps stand in a fixed order (README, "Layout"; ``[tool.importlinter]`` in pyproject.toml) and
imports only go down it. When something in a lower app must set off work that belongs higher up —
an order completes and commission must settle, a payment arrives and the spending threshold may
make the buyer a distributor — the lower app publishes a typed event and the higher app handles it:

    # apps/orders/events.py (the lower app owns the event type)
    @dataclass(frozen=True, kw_only=True)
    class OrderCompleted(Event):
        merchant_id: int
        order_id: int

    # apps/orders/services/transitions.py
    events.publish(OrderCompleted(merchant_id=order.merchant_id, order_id=order.pk))

    # apps/commissions/handlers.py (the higher app reacts)
    @events.handler(OrderCompleted)
    def settle_when_completed(event: OrderCompleted) -> None:
        transaction.on_commit(lambda: commission_settle_orders_task.delay([event.order_id]))

Rules, unlike Django signals:
- An event is a frozen dataclass defined in ``<app>/events.py`` of the app that publishes it; it
  carries ids and values, never model instances, so a handler loads what it needs.
- Handlers live in ``<app>/handlers.py`` only, which the app's ``AppConfig.ready()`` imports; nothing
  else subscribes. ``manage.py events`` lists every event with its handlers, in the order they run.
- ``publish`` calls the handlers at once, in the publisher's transaction, in ``INSTALLED_APPS``
  order: a handler may write in that transaction (and roll back with it), and defers anything that
  must wait for the commit (a Celery task) with ``transaction.on_commit``.
- A handler's exception propagates to the publisher: nothing fails silently.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event."""


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

_handlers: dict[type[Event], list[Handler]] = defaultdict(list)
_recorders: list[list[Event]] = []


def handler(event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Subscribe the decorated function to ``event_type`` (use it in ``<app>/handlers.py``)."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"{event_type!r} is not an Event subclass")

    def register(function: Callable[[E], None]) -> Callable[[E], None]:
        if function not in _handlers[event_type]:
            _handlers[event_type].append(function)
        return function

    return register


def publish(event: Event) -> None:
    """Run every handler of ``type(event)``, in subscription order, in the caller's transaction."""
    for seen in _recorders:
        seen.append(event)
    for function in tuple(_handlers.get(type(event), ())):
        function(event)


def subscriptions() -> dict[type[Event], tuple[Handler, ...]]:
    """Every event type that has handlers, with them in the order they run."""
    return {
        event_type: tuple(functions) for event_type, functions in _handlers.items() if functions
    }


@contextmanager
def captured() -> Iterator[list[Event]]:
    """For tests: collect the events published inside the block, in order (handlers still run)."""
    seen: list[Event] = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)
