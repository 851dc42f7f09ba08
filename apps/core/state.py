"""Explicit state machines applied as compare-and-swap updates."""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from .audit import audit_change, is_audited
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
    changes nothing. A change to an audited model goes into the audit trail (an UPDATE bypasses
    the library's save() hooks), with the request's user as actor.
    """
    if queryset.filter(pk=pk, **{field: old}).update(**{field: new}, **updates) != 1:
        return False
    if is_audited(queryset.model):
        audit_change(
            queryset.model._default_manager.get(pk=pk),
            {field: (old, new), **{name: (None, value) for name, value in updates.items()}},
        )
    return True


def transition(
    obj: models.Model,
    new: str,
    *,
    transitions: Mapping[str, frozenset[str]],
    history: type[models.Model],
    history_field: str,
    actor: Any = None,
    reason: str = "",
    field: str = "status",
    **updates: Any,
) -> bool:
    """Apply one step of a state machine to ``obj``: check it is allowed, compare-and-swap it from
    the status ``obj`` was loaded with, and write its history row; True when this call made it.

    The one transition helper of the project (orders, refund cases, withdrawals, …). The history
    model has ``merchant_id``, ``from_status``, ``to_status``, ``actor``, ``reason`` and a foreign
    key named ``history_field`` to ``obj``. Runs inside the caller's transaction, so the history row
    commits with the change. On success ``obj`` carries the new status and ``updates``; a loser of
    a race (False) has written nothing.
    """
    old = getattr(obj, field)
    check_transition(transitions, old, new)
    if not compare_and_swap(
        type(obj)._default_manager, pk=obj.pk, field=field, old=old, new=new, **updates
    ):
        return False
    history._default_manager.create(
        merchant_id=obj.merchant_id,  # type: ignore[attr-defined]
        from_status=old,
        to_status=new,
        actor=actor,
        reason=reason,
        **{history_field: obj},
    )
    setattr(obj, field, new)
    for name, value in updates.items():
        setattr(obj, name, value)
    return True
