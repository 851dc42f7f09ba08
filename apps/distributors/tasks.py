from celery import shared_task

from . import imports


@shared_task
def distributors_import_job_task(job_id: int) -> str:
    return imports.import_job_run(job_id=job_id)
