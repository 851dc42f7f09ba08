"""The audit trail: who changed what and when (django-auditlog).

Which models are tracked is written once, in ``AUDITLOG_INCLUDE_TRACKING_MODELS`` (settings): the
money-relevant and programme settings, prices and stock, distributors, refund cases and
withdrawals. django-auditlog writes one ``LogEntry`` per create, change or delete through
``save()``/``delete()`` (its own signal receivers), with the diff, the actor (set per request by
``AuditActorMiddleware``) and the client address. Writes that bypass ``save()`` — the
compare-and-swap state transitions and bulk status updates — call ``audit_change`` so they are in
the trail too. Entries are shown per object in the admin (``AuditHistoryMixin`` in core.admin) and
never edited: nobody gets add/change/delete on them, and PostgreSQL refuses UPDATE and DELETE of
the table (migration of apps.core).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db import models
from django.http import HttpRequest


class AuditActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, but the client address is ``REMOTE_ADDR`` only: like the rate
    limits, the trail never trusts ``X-Forwarded-For``, which any client can send."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return request.META.get("REMOTE_ADDR")

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None


def is_audited(model: type[models.Model]) -> bool:
    return auditlog.contains(model)


def audit_change(
    obj: models.Model, changes: Mapping[str, tuple[Any, Any]], *, actor: Any = None
) -> None:
    """Record a change made without ``save()`` (an ``UPDATE … WHERE``) to an audited object.

    ``changes`` maps field names to (old, new). ``actor`` overrides the request's user (a task
    acting for a staff member passes them); without either the entry reads "system".
    """
    if not is_audited(type(obj)) or not changes:
        return
    extra = {"actor": actor} if actor is not None and getattr(actor, "pk", None) else {}
    LogEntry.objects.log_create(
        obj,
        action=LogEntry.Action.UPDATE,
        changes={name: [_text(old), _text(new)] for name, (old, new) in changes.items()},
        **extra,
    )


def audit_changes(
    objects: Iterable[models.Model], changes: Mapping[str, tuple[Any, Any]], *, actor: Any = None
) -> None:
    for obj in objects:
        audit_change(obj, changes, actor=actor)


def _text(value: Any) -> str:
    return "None" if value is None else str(value)


def audit_entries_for(obj: models.Model) -> "models.QuerySet[LogEntry]":
    """The trail of one object, newest first."""
    return (
        LogEntry.objects.get_for_object(obj)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )
