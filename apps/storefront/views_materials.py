"""The distributor's material library (素材/培训): list with unread markers, detail, file download.

Only distributors of the store see it, only published materials of this store, and another
store's material id answers 404 like an id that does not exist.
"""

import mimetypes
from pathlib import PurePosixPath

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.distributors.models import Distributor
from apps.materials.models import Material
from apps.materials.selectors import material_for_distributor, materials_for_distributor
from apps.materials.services import material_read_record
from apps.merchants.models import Merchant

from .views import SignedInRequest, distributor_required, render_store, store_view

MATERIALS_PER_PAGE = 20


def _material(distributor: Distributor, material_id: int) -> Material:
    material = material_for_distributor(distributor=distributor, material_id=material_id)
    if material is None:
        raise Http404(_("No such material."))
    return material


@require_GET
@store_view
@distributor_required
def material_list(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    paginator = Paginator(materials_for_distributor(distributor=distributor), MATERIALS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render_store(
        request,
        merchant,
        "storefront/distributor/materials.html",
        {"distributor": distributor, "page": page, "Kind": Material.Kind},
    )


@require_GET
@store_view
@distributor_required
def material_detail(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor, material_id: int
) -> HttpResponse:
    material = _material(distributor, material_id)
    read = material_read_record(material=material, distributor=distributor)
    return render_store(
        request,
        merchant,
        "storefront/distributor/material.html",
        {"distributor": distributor, "material": material, "read": read, "Kind": Material.Kind},
    )


@require_GET
@store_view
@distributor_required
def material_file(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor, material_id: int
) -> FileResponse:
    """The material's file (or image) as a download, streamed from storage."""
    material = _material(distributor, material_id)
    stored = material.file or material.image
    if not stored:
        raise Http404(_("This material has no file."))
    try:
        handle = stored.open("rb")
    except OSError as error:
        raise Http404(_("This material's file is missing.")) from error
    name = PurePosixPath(stored.name or "material").name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, max-age=600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
