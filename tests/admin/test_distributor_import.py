"""The CSV import in the back office: upload on the distributor list, a background job, a progress
page polling a small JSON endpoint; all of it scoped to the staff member's store."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.distributors import tasks
from apps.distributors.imports import import_job_run
from apps.distributors.models import Distributor, ImportJob
from tests.factories import UserFactory
from tests.support.tree import assert_trees_valid

from .test_scoping import url


def upload(client, text, name="team.csv"):
    return client.post(
        reverse("admin:distributors_distributor_import"),
        {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")},
    )


def status(client, job):
    return client.get(reverse("admin:distributors_distributor_import_status", args=[job.pk]))


def test_the_distributor_list_links_to_the_import(store_a, staff_client):
    response = staff_client.get(url(Distributor, "changelist"))

    assert reverse("admin:distributors_distributor_import") in response.content.decode()


def test_an_upload_runs_in_the_background_and_reports_progress(
    store_a, staff_client, staff_a, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(tasks.distributors_import_job_task, "delay", enqueued.append)
    text = f"username,name,upline\nnew_a,甲,{store_a.child.invite_code}\nnew_b,乙,new_a\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, text)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:distributors_distributor_import_progress", args=[job.pk]
    )
    assert (job.merchant_id, job.created_by_id, job.status, job.file_name) == (
        store_a.merchant.pk,
        staff_a.pk,
        "pending",
        "team.csv",
    )
    assert enqueued == [job.pk]
    assert status(staff_client, job).json()["status"] == "pending"

    assert import_job_run(job_id=job.pk) == "done"
    assert import_job_run(job_id=job.pk) == "done"  # a second delivery changes nothing

    assert status(staff_client, job).json() == {
        "id": job.pk,
        "status": "done",
        "status_display": "Done",
        "stage": "writing",
        "done": 2,
        "total": 2,
        "percent": 100,
        "error_row": None,
        "error": "",
    }
    page = staff_client.get(
        reverse("admin:distributors_distributor_import_progress", args=[job.pk])
    )
    assert page.status_code == 200
    assert 'value="100"' in page.content.decode()
    assert Distributor.objects.filter(merchant=store_a.merchant).count() == 4
    assert Distributor.objects.get(user__username="new_b").parent.user.username == "new_a"
    assert_trees_valid()


def test_a_bad_file_fails_the_job_with_the_row_and_writes_nothing(
    store_a, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.distributors_import_job_task, "delay", lambda job_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, "username,upline\nfine,\nbad,nobody\n")
    job = ImportJob.objects.get()

    assert import_job_run(job_id=job.pk) == "failed"

    body = status(staff_client, job).json()
    assert (body["status"], body["error_row"]) == ("failed", 3)
    assert body["error"].startswith("Row 3: the upline “nobody” is neither")
    assert Distributor.objects.filter(merchant=store_a.merchant).count() == 2


def test_a_file_that_is_not_utf8_is_a_form_error(store_a, staff_client):
    response = staff_client.post(
        reverse("admin:distributors_distributor_import"),
        {"file": SimpleUploadedFile("team.csv", "username\n张三\n".encode("gbk"))},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file is not UTF-8 text."]
    assert ImportJob.objects.count() == 0


def test_another_stores_import_job_is_not_found(store_a, store_b, staff_client):
    theirs = ImportJob.objects.create(
        merchant=store_b.merchant, created_by=UserFactory(), content="username\nx\n"
    )

    assert status(staff_client, theirs).status_code == 404
    progress = reverse("admin:distributors_distributor_import_progress", args=[theirs.pk])
    assert staff_client.get(progress).status_code == 404
    listing = staff_client.get(reverse("admin:distributors_distributor_import"))
    assert list(listing.context["jobs"]) == []


def test_the_operator_imports_with_the_command_not_the_page(store_a, operator_client):
    response = operator_client.get(reverse("admin:distributors_distributor_import"))

    assert response.status_code == 403


def test_a_job_that_crashes_is_marked_failed_not_left_running(store_a, staff_a, monkeypatch):
    from apps.distributors.imports import jobs

    job = ImportJob.objects.create(
        merchant=store_a.merchant, created_by=staff_a, content="username,upline\nx,\n"
    )

    def crash(**kwargs):
        raise MemoryError

    monkeypatch.setattr(jobs, "distributors_import", crash)
    with pytest.raises(MemoryError):
        import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error_reason) == (
        "failed",
        "The import stopped unexpectedly; nothing was imported.",
    )
