"""Counting the statements a piece of code sends, the ones Django does not count included."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


class CursorCounting:
    """The driver's connection, counting the cursors opened on it: every statement Django, the
    row-level security scope and its store lookup send goes through one."""

    def __init__(self, raw):  # type: ignore[no-untyped-def]
        self.raw, self.cursors = raw, 0

    def cursor(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.cursors += 1
        return self.raw.cursor(*args, **kwargs)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.raw, name)


@contextmanager
def counting_cursors() -> Iterator[CursorCounting]:
    connection.ensure_connection()
    raw = connection.connection
    counting = CursorCounting(raw)
    connection.connection = counting
    try:
        yield counting
    finally:
        connection.connection = raw
