from django.utils import timezone

from apps.core.errors import DomainError
from apps.distributors.models import Distributor
from apps.distributors.services import invite_code_normalize
from apps.merchants.models import Merchant

from .models import ShareVisit


def share_visit_record(*, merchant: Merchant, invite_code: str, device_id: str, path: str) -> None:
    """Count a share link's visit (at most once per browser, link and day, by the database's
    unique constraint). An unknown or malformed code, or a browser without a device id, counts
    nothing."""
    try:
        code = invite_code_normalize(invite_code)
    except DomainError:
        return
    if not device_id:
        return
    distributor_id = (
        Distributor.objects.filter(merchant=merchant, invite_code=code)
        .values_list("pk", flat=True)
        .first()
    )
    if distributor_id is None:
        return
    ShareVisit.objects.bulk_create(
        [
            ShareVisit(
                merchant=merchant,
                distributor_id=distributor_id,
                device_id=device_id[:32],
                day=timezone.localdate(),
                path=path[:200],
            )
        ],
        ignore_conflicts=True,
    )
