"""The distributors app's own asynchronous work (apps/core/events.py): its services publish, and
this enqueues the task once the publishing transaction commits (a service never imports its own
app's tasks: the tasks call the services)."""

from django.db import transaction

from apps.core import events

from .events import ImportJobCreated
from .tasks import distributors_import_job_task


@events.handler(ImportJobCreated)
def run_import_when_created(event: ImportJobCreated) -> None:
    job_id = event.job_id
    transaction.on_commit(lambda: distributors_import_job_task.delay(job_id))
