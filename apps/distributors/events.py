"""What the distributors app tells the apps above it (apps/core/events.py).

Published inside the transaction that makes the change; a handler defers what must wait for the
commit (a Celery task) with ``transaction.on_commit``.
"""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class DistributorJoined(Event):
    """A new distributor was written into its merchant's tree (any path: the storefront's join, an
    approved application, an appointment, the spending threshold; not the CSV import, which
    writes whole trees at once). Its inviter (``parent_id``) has a new direct recruit."""

    merchant_id: int
    distributor_id: int
    parent_id: int | None


@dataclass(frozen=True, kw_only=True)
class ImportJobCreated(Event):
    """Staff uploaded a CSV of distributors that passed the checks: the job waits for a worker."""

    merchant_id: int
    job_id: int
