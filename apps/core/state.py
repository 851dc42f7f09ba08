"""Explicit state machines applied as compare-and-swap updates."""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from .errors import Conflict


def check_transition(transitions: Mapping[str, frozenset[str]], old: str, new: str) -> None:
    if new not in transitions.get(old, frozenset()):
        raise Conflict(
            _("Cannot go from “%(old)s” to “%(new)s”.") % {"old": old, "new": new},
            code="invalid_transition",
        )


def compare_and_swap(
    queryset: "models.QuerySet[Any] | models.Manager[Any]",
    *,
    pk: int,
    field: str,
    old: str,
    new: str,
    **updates: Any,
) -> bool:
    """``UPDATE … SET field = new WHERE pk = … AND field = old``; True when this call made the change.

    Whoever loses a race (a repeated notification, a retried task, a double click) sees False and
    changes nothing.
    """
    return queryset.filter(pk=pk, **{field: old}).update(**{field: new}, **updates) == 1
