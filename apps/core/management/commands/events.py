"""``manage.py events``: every domain event with the handlers that run when it is published."""

from django.core.management.base import BaseCommand

from apps.core import events


class Command(BaseCommand):
    help = "List the domain events and their handlers, in the order the handlers run."

    def handle(self, *args, **options) -> None:
        subscriptions = events.subscriptions()
        if not subscriptions:
            self.stdout.write("No event has a handler.")
            return
        for event_type in sorted(subscriptions, key=lambda t: (t.__module__, t.__qualname__)):
            self.stdout.write(f"{event_type.__module__}.{event_type.__qualname__}")
            for function in subscriptions[event_type]:
                self.stdout.write(f"    → {function.__module__}.{function.__qualname__}")
