"""The material library: distributors list, read (counted) and download published material of
their own store only; staff see who read what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.core.errors import DomainError, NotFound
from apps.materials.models import Material, MaterialRead
from apps.materials.services import material_read_record, material_set_published
from tests.api.conftest import api_url, client_for


def make(merchant, **fields) -> Material:  # type: ignore[no-untyped-def]
    defaults = {"title": "话术", "body": "<b>Hi</b>\n\nSecond", "is_published": True}
    defaults.update(fields)
    if defaults["is_published"]:
        defaults.setdefault("published_at", timezone.now())
    return Material.objects.create(merchant=merchant, **defaults)


def test_reads_are_one_row_per_distributor_counting_every_read(merchant, chain):
    material = make(merchant)

    first = material_read_record(material=material, distributor=chain[0])
    again = material_read_record(material=material, distributor=chain[0])
    other = material_read_record(material=material, distributor=chain[1])

    assert (first.pk, again.read_count, other.read_count) == (again.pk, 2, 1)
    assert again.first_read_at == first.first_read_at <= again.last_read_at
    assert MaterialRead.objects.count() == 2


def test_unpublished_or_foreign_material_cannot_be_read(merchant, other_merchant, chain):
    for material in (make(merchant, is_published=False), make(other_merchant)):
        with pytest.raises(NotFound):
            material_read_record(material=material, distributor=chain[0])
    assert MaterialRead.objects.count() == 0


def test_publishing_a_file_material_without_a_file_is_refused(merchant):
    material = make(merchant, kind=Material.Kind.FILE, is_published=False)
    with pytest.raises(DomainError) as refused:
        material_set_published(material=material, published=True)
    assert refused.value.code == "material_needs_file"
    material.refresh_from_db()
    assert material.is_published is False


def test_list_marks_unread_and_detail_records_a_read_with_escaped_text(
    client, merchant, store_url, chain
):
    material = make(merchant)
    make(merchant, is_published=False, title="Draft")
    client.force_login(chain[0].user)

    listing = client.get(store_url("distributor-materials")).content.decode()
    assert listing.count('data-test="unread"') == 1 and "Draft" not in listing

    detail = client.get(store_url("distributor-material", material_id=material.pk))
    content = detail.content.decode()
    assert "&lt;b&gt;Hi&lt;/b&gt;" in content and "<b>Hi</b>" not in content
    assert "read 1 time" in content
    client.get(store_url("distributor-material", material_id=material.pk))
    assert MaterialRead.objects.get().read_count == 2
    listing = client.get(store_url("distributor-materials")).content.decode()
    assert 'data-test="unread"' not in listing


def test_detail_and_file_of_another_store_or_a_draft_are_404(
    client, merchant, other_merchant, store_url, chain, customer
):
    theirs, draft = make(other_merchant), make(merchant, is_published=False)
    client.force_login(chain[0].user)
    for material in (theirs, draft):
        for name in ("distributor-material", "distributor-material-file"):
            assert client.get(store_url(name, material_id=material.pk)).status_code == 404
    client.force_login(customer)  # not a distributor: off to the join page
    mine = make(merchant)
    response = client.get(store_url("distributor-material-file", material_id=mine.pk))
    assert response["Location"] == store_url("distributor-join")


def test_file_download(client, merchant, store_url, chain, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    material = make(
        merchant,
        kind=Material.Kind.FILE,
        file=SimpleUploadedFile("price-list.pdf", b"%PDF-1.4 test", "application/pdf"),
    )
    client.force_login(chain[0].user)

    response = client.get(store_url("distributor-material-file", material_id=material.pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("rows", [1, 5])
def test_material_list_queries_do_not_grow(
    client, merchant, store_url, chain, django_assert_num_queries, rows
):
    for _ in range(rows):
        make(merchant)
    client.force_login(chain[0].user)
    with django_assert_num_queries(5):  # user (session cached), store, distributor, count, page
        response = client.get(store_url("distributor-materials"))
    assert len(response.context["page"].object_list) == rows


def test_api_mark_read_and_staff_read_stats(merchant, chain, staff_user):
    material = make(merchant)
    distributor = client_for(chain[1].user)

    listed = distributor.get(api_url("store-material-list", store=merchant.slug)).json()
    assert [(m["id"], m["is_read"]) for m in listed["results"]] == [(material.pk, False)]
    read = distributor.post(
        api_url("store-material-read", store=merchant.slug, pk=material.pk)
    ).json()
    assert read["read_count"] == 1

    office = client_for(staff_user)
    stats = office.get(api_url("merchant-material-detail", pk=material.pk)).json()
    assert (stats["reader_count"], stats["read_total"]) == (1, 1)
    readers = office.get(api_url("merchant-material-reads", pk=material.pk)).json()["results"]
    assert [r["distributor"] for r in readers] == [chain[1].pk]
    unpublished = office.patch(
        api_url("merchant-material-detail", pk=material.pk), {"is_published": False}, format="json"
    )
    assert unpublished.status_code == 200
    listed = distributor.get(api_url("store-material-list", store=merchant.slug)).json()
    assert listed["results"] == []
    refused = office.post(
        api_url("merchant-material-list"), {"title": "x", "kind": "image"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "material_needs_image"
