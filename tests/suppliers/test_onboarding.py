"""供应商入驻: the public application with its licence, the operator's review, the applicant told."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.suppliers.models import Supplier, SupplierApplication, SupplierStaff
from apps.suppliers.selectors import supplier_for_staff
from apps.suppliers.services import (
    supplier_application_approve,
    supplier_application_reject,
    supplier_application_submit,
)

from .conftest import licence_png, png_bytes

pytestmark = pytest.mark.django_db


def submit(licence, **overrides):
    fields = {
        "username": "teafarm",
        "password": "a-long-pass-123",
        "company_name": "Tea Farm Co.",
        "slug": "tea-farm",
        "categories": "tea",
        "contact_name": "Wang Fang",
        "contact_phone": "13900000000",
        "contact_email": "wang@example.com",
        "licence": licence,
        **overrides,
    }
    return supplier_application_submit(**fields)


def form_data(**overrides):
    return {
        "username": "teafarm",
        "password1": "a-long-pass-123",
        "password2": "a-long-pass-123",
        "company_name": "Tea Farm Co.",
        "slug": "tea-farm",
        "categories": "tea",
        "contact_name": "Wang Fang",
        "contact_phone": "13900000000",
        "contact_email": "wang@example.com",
        **overrides,
    }


def test_an_application_with_a_png_licence_is_pending_and_keeps_the_file():
    application = submit(licence_png())

    assert application.status == SupplierApplication.Status.PENDING
    assert application.licence_content_type == "image/png"
    assert application.licence.read() == png_bytes()
    assert application.applicant.username == "teafarm"
    assert not application.applicant.is_staff


def test_a_pdf_licence_is_accepted():
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n%...\n", content_type="application/pdf")

    assert submit(pdf).licence_content_type == "application/pdf"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("licence.png", b"", content_type="image/png"), "empty"),
        (SimpleUploadedFile("licence.txt", b"hello", content_type="text/plain"), "PDF, JPEG"),
        # a text file named .png: the bytes decide, not the name
        (SimpleUploadedFile("licence.png", b"not an image", content_type="image/png"), "PDF, JPEG"),
        # PNG signature but broken image data
        (SimpleUploadedFile("l.png", b"\x89PNG\r\n\x1a\nbroken", content_type="image/png"), "read"),
        (None, "Upload"),
    ],
    ids=["empty", "wrong-type", "disguised", "corrupt", "missing"],
)
def test_bad_licences_are_refused_and_nothing_is_written(upload, message):
    with pytest.raises(DomainError) as refused:
        submit(upload)

    assert refused.value.code == "licence"
    assert message in refused.value.message
    assert not User.objects.filter(username="teafarm").exists()
    assert SupplierApplication.objects.count() == 0


def test_a_licence_over_the_size_limit_is_refused(settings):
    settings.FENXIAO_SUPPLIER_LICENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("licence.pdf", b"%PDF-" + b"x" * 2048, content_type="application/pdf")

    with pytest.raises(DomainError) as refused:
        submit(big)

    assert refused.value.message == "The licence file is too big (3 KB; at most 1 KB)."


def test_the_public_form_creates_the_application_and_signs_the_applicant_in(client):
    response = client.post(reverse("suppliers:apply"), {**form_data(), "licence": licence_png()})

    assert response.status_code == 302
    assert response.url == reverse("suppliers:apply-status")
    status = client.get(reverse("suppliers:apply-status"))
    assert status.status_code == 200
    assert 'data-status="pending"' in status.content.decode()


def test_the_public_form_shows_a_bad_licence_as_a_field_error(client):
    bad = SimpleUploadedFile("licence.exe", b"MZ\x90\x00", content_type="application/x-msdownload")

    response = client.post(reverse("suppliers:apply"), {**form_data(), "licence": bad})

    assert response.status_code == 400
    assert response.context["form"].errors["licence"] == [
        "The licence must be a PDF, JPEG or PNG file."
    ]
    assert SupplierApplication.objects.count() == 0


def test_approval_opens_the_supplier_gives_the_owner_a_back_office_and_emails_them(
    django_capture_on_commit_callbacks,
):
    application = submit(licence_png())
    operator = User.objects.create(username="root", is_superuser=True, is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        supplier = supplier_application_approve(application_id=application.pk, reviewer=operator)

    application.refresh_from_db()
    assert application.status == SupplierApplication.Status.APPROVED
    assert application.supplier == supplier
    assert (supplier.name, supplier.slug, supplier.status) == ("Tea Farm Co.", "tea-farm", "active")
    owner = User.objects.get(username="teafarm")
    assert owner.is_staff
    assert SupplierStaff.objects.get(user=owner).role == SupplierStaff.Role.OWNER
    assert supplier_for_staff(owner) == supplier
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wang@example.com"]
    assert mail.outbox[0].subject == "Your supplier application is approved"
    with pytest.raises(Conflict):
        supplier_application_approve(application_id=application.pk, reviewer=operator)


def test_rejection_needs_a_reason_and_emails_it(django_capture_on_commit_callbacks):
    application = submit(licence_png())
    operator = User.objects.create(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(DomainError):
        supplier_application_reject(application_id=application.pk, reviewer=operator, reason=" ")

    with django_capture_on_commit_callbacks(execute=True):
        supplier_application_reject(
            application_id=application.pk, reviewer=operator, reason="Licence expired"
        )

    application.refresh_from_db()
    assert (application.status, application.reject_reason) == ("rejected", "Licence expired")
    assert Supplier.objects.count() == 0
    assert [message.to for message in mail.outbox] == [["wang@example.com"]]
    assert "Licence expired" in mail.outbox[0].body


def test_the_operator_reviews_in_the_admin(client, django_capture_on_commit_callbacks):
    first = submit(licence_png())
    second = submit(licence_png(), username="other", slug="other-farm")
    client.force_login(User.objects.create(username="root", is_superuser=True, is_staff=True))
    change = reverse("admin:suppliers_supplierapplication_change", args=[first.pk])
    assert 'data-test="approve"' in client.get(change).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(
            reverse("admin:suppliers_supplierapplication_approve", args=[first.pk])
        )
        rejected = client.post(
            reverse("admin:suppliers_supplierapplication_reject", args=[second.pk]),
            {"reason": "Not a tea supplier"},
        )

    assert (approved.status_code, rejected.status_code) == (302, 302)
    assert SupplierApplication.objects.get(pk=first.pk).status == "approved"
    assert SupplierApplication.objects.get(pk=second.pk).reject_reason == "Not a tea supplier"
    assert len(mail.outbox) == 2


def test_a_taken_code_is_refused():
    submit(licence_png())

    with pytest.raises(DomainError) as refused:
        submit(licence_png(), username="someone-else")

    assert refused.value.code == "slug_taken"


def test_the_application_page_speaks_chinese(client):
    response = client.get(reverse("suppliers:apply"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    text = response.content.decode()
    assert "成为供应商" in text
    assert "营业执照" in text


# --- the same application through the API -----------------------------------------------------


def api_data(**overrides):
    data = form_data()
    data["password"] = data.pop("password1")
    data.pop("password2")
    return {**data, **overrides}


def test_the_api_takes_an_application_with_its_licence_as_multipart():
    response = APIClient().post(
        "/api/v1/supplier-applications/",
        {**api_data(), "licence": licence_png()},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    application = SupplierApplication.objects.get()
    assert response.json() == {
        "id": application.pk,
        "company_name": "Tea Farm Co.",
        "slug": "tea-farm",
        "status": "pending",
        "created_at": response.json()["created_at"],
    }
    assert application.licence.read() == png_bytes()
    assert application.applicant.check_password("a-long-pass-123")


@pytest.mark.parametrize(
    ("licence", "message"),
    [
        (None, "No file was submitted."),
        (
            SimpleUploadedFile("licence.png", b"", content_type="image/png"),
            "The licence file is empty.",
        ),
        (
            SimpleUploadedFile(
                "licence.exe", b"MZ\x90\x00", content_type="application/x-msdownload"
            ),
            "The licence must be a PDF, JPEG or PNG file.",
        ),
    ],
    ids=["missing", "empty", "wrong-type"],
)
def test_the_api_refuses_a_bad_licence_with_a_400_and_writes_nothing(licence, message):
    data = api_data()
    if licence is not None:
        data["licence"] = licence

    response = APIClient().post("/api/v1/supplier-applications/", data, format="multipart")

    assert response.status_code == 400, response.content
    body = response.json()
    assert message in str(body), body
    assert not SupplierApplication.objects.exists()
    assert not User.objects.filter(username="teafarm").exists()


def test_the_api_refuses_a_licence_over_the_size_limit(settings):
    settings.FENXIAO_SUPPLIER_LICENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("licence.pdf", b"%PDF-" + b"x" * 2048, content_type="application/pdf")

    response = APIClient().post(
        "/api/v1/supplier-applications/", {**api_data(), "licence": big}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The licence file is too big (3 KB; at most 1 KB).",
        "code": "licence",
    }
    assert not User.objects.filter(username="teafarm").exists()


def test_the_api_refuses_a_taken_code_and_a_weak_password():
    submit(licence_png())

    taken = APIClient().post(
        "/api/v1/supplier-applications/",
        {**api_data(username="other"), "licence": licence_png()},
        format="multipart",
    )
    weak = APIClient().post(
        "/api/v1/supplier-applications/",
        {**api_data(username="third", slug="third", password="123"), "licence": licence_png()},
        format="multipart",
    )

    assert (taken.status_code, taken.json()["code"]) == (400, "slug_taken")
    assert weak.status_code == 400 and "password" in weak.json()
    assert SupplierApplication.objects.count() == 1
    assert not User.objects.filter(username__in=["other", "third"]).exists()
