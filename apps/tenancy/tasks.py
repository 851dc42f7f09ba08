"""Celery tasks run in the scope they were enqueued in, or fail.

``ScopedTask`` is the base of every task (``config/celery.py``). Publishing a task writes the
publisher's scope into its message headers (``fenxiao_scope``, set by ``before_task_publish``):
a task a merchant's request enqueues runs in that merchant's scope. A task that the platform
starts (beat's sweepers and jobs) declares ``platform_scope="why"`` on its decorator and runs in
the logged platform scope when it carries none. A task with neither raises ``ScopeMissing``
before it touches a row: forgetting the scope fails loudly, it never reads everything or nothing.
A task called in-process (``task(...)``, ``.apply()``) runs in its caller's scope.
"""

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from celery import Task
from celery.signals import before_task_publish
from django.db.models import Model

from .scope import NONE, Scope, ScopeMissing, current_scope, platform_scope, scoped, tenant_scope

HEADER = "fenxiao_scope"


@before_task_publish.connect(dispatch_uid="fenxiao-tenancy-task-scope")
def carry_scope(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    scope = current_scope()
    if headers is not None and scope.kind != NONE and HEADER not in headers:
        headers[HEADER] = scope.as_header()


class ScopedTask(Task):
    abstract = True
    #: Why a task may run in the platform scope when it carries none (beat's jobs); None: it must
    #: carry a scope.
    platform_scope: str | None = None

    def carried_scope(self) -> Scope | None:
        request = self.request
        header = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(
            HEADER
        )
        if header:
            return Scope.from_header(header)
        if request.called_directly or request.is_eager:
            current = current_scope()
            return None if current.kind == NONE else current
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = self.carried_scope()
        if scope is not None:
            context = scoped(scope)
        elif self.platform_scope:
            context = platform_scope(reason=f"task {self.name}: {self.platform_scope}")
        else:
            raise ScopeMissing(
                f"Task {self.name} carries no merchant, supplier or platform scope: enqueue it "
                "inside a scope (apps.tenancy.scope) or declare platform_scope on it."
            )
        with context:
            return super().__call__(*args, **kwargs)


def delay_in_merchant_scopes(task: Any, model: type[Model], ids: Iterable[int]) -> int:
    """Enqueue ``task(id)`` for each row of ``model`` with these ids, from the scope of the row's
    merchant: a sweeper finds left-behind work across stores in the platform scope, and the work
    itself then runs inside its one merchant, where row-level security is the wall (as when the
    merchant's own request enqueues it). Returns how many were enqueued."""
    rows = (
        model._default_manager.filter(pk__in=list(ids))
        .order_by("merchant_id", "pk")
        .values_list("merchant_id", "pk")
    )
    enqueued = 0
    for merchant_id, group in groupby(rows, key=lambda row: row[0]):
        with tenant_scope(merchant_id=merchant_id):
            for _merchant_id, pk in group:
                task.delay(pk)
                enqueued += 1
    return enqueued
