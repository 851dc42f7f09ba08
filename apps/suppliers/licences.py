"""The business licence an applicant uploads: checked by size and by what the bytes are.

The name's extension and the browser's content type are the applicant's to choose, so the file's
first bytes decide: a PDF, a JPEG or a PNG (images must also open as images). Limits come from
``FENXIAO_SUPPLIER_LICENCE_MAX_BYTES``.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from apps.core.errors import DomainError

SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png"}


def licence_check(upload: UploadedFile | None) -> str:
    """The licence's content type, or DomainError (code ``licence``) saying what is wrong."""
    if upload is None:
        raise DomainError(_("Upload your business licence."), code="licence")
    size = upload.size or 0
    if size == 0:
        raise DomainError(_("The licence file is empty."), code="licence")
    limit = settings.FENXIAO_SUPPLIER_LICENCE_MAX_BYTES
    if size > limit:
        raise DomainError(
            _("The licence file is too big (%(size)s KB; at most %(limit)s KB).")
            % {"size": (size + 1023) // 1024, "limit": limit // 1024},
            code="licence",
        )
    name = (upload.name or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = next((found for found in SIGNATURES if head.startswith(found[0])), None)
    if extension not in EXTENSIONS or kind is None:
        raise DomainError(_("The licence must be a PDF, JPEG or PNG file."), code="licence")
    if kind[1] != "application/pdf":
        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise DomainError(_("The licence image cannot be read."), code="licence") from error
        finally:
            upload.seek(0)
    return kind[1]
