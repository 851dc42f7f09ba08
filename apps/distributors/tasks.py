"""Celery tasks of the distributors app: take ids, call a service, harmless twice."""

from celery import shared_task

from .imports.jobs import import_job_run


# A 100,000-row file takes about half a minute on a quiet machine; the default limit is 300 s.
@shared_task(time_limit=1800, soft_time_limit=1700)
def distributors_import_job_task(job_id: int) -> str:
    return import_job_run(job_id=job_id)
