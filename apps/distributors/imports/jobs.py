"""Import jobs: an admin upload recorded, run by a Celery worker, its progress shown."""

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.merchants.models import Merchant

from ..events import ImportJobCreated
from ..models import ImportJob
from .checks import ImportRefused
from .writing import distributors_import


def _progress_key(job_id: int) -> str:
    return f"distributors:import:{job_id}"


def import_job_create(
    *, merchant: Merchant, created_by: User, file_name: str, text: str
) -> ImportJob:
    """Record an uploaded file; the app's handler runs it in the background once committed."""
    job = ImportJob.objects.create(
        merchant=merchant, created_by=created_by, file_name=file_name[:255], content=text
    )
    events.publish(ImportJobCreated(merchant_id=merchant.pk, job_id=job.pk))
    return job


def import_job_run(*, job_id: int) -> str:
    """Run a waiting job (harmless twice: only a waiting job starts). Returns its status."""
    started = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING
    )
    job = ImportJob.objects.select_related("merchant").get(pk=job_id)
    if not started:
        return job.status

    def progress(stage: str, done: int, total: int) -> None:
        # the import is one transaction: progress goes through the cache, seen at once
        cache.set(_progress_key(job_id), {"stage": stage, "done": done, "total": total}, 3600)

    try:
        count = distributors_import(merchant=job.merchant, text=job.content, progress=progress)
    except ImportRefused as error:
        _job_failed(job_id, error.row, error.message)
        return ImportJob.Status.FAILED
    except BaseException:
        # the transaction is rolled back; the page must not wait for ever (time limit, crash)
        _job_failed(job_id, None, _("The import stopped unexpectedly; nothing was imported."))
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, total=count, processed=count, finished_at=timezone.now()
    )
    return ImportJob.Status.DONE


def _job_failed(job_id: int, row: int | None, reason: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED,
        error_row=row,
        error_reason=reason,
        finished_at=timezone.now(),
    )


def import_job_progress(*, job: ImportJob) -> dict:
    """What the progress page shows: status, stage, rows done of total, the error if any."""
    live = cache.get(_progress_key(job.pk)) or {}
    done, total = job.processed, job.total
    if job.status == ImportJob.Status.RUNNING and live:
        done, total = live["done"], live["total"]
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": str(job.get_status_display()),
        "stage": live.get("stage", ""),
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else (100 if job.status == "done" else 0),
        "error_row": job.error_row,
        "error": job.error_reason,
    }
