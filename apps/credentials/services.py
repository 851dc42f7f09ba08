from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.distributors.models import Distributor

from .models import PayeeAccount

MAX_ACCOUNT_LENGTH = 64


def payee_account_set(
    *, distributor: Distributor, provider: str, account: str, real_name: str = ""
) -> PayeeAccount:
    """The distributor's account for one payout method, created or replaced."""
    account = (account or "").strip()
    real_name = (real_name or "").strip()
    if provider not in PayeeAccount.Provider.values:
        raise DomainError(_("Unknown payout method."), code="unknown_payout_provider")
    if not account:
        raise DomainError(_("Enter the account to pay into."), code="account_required")
    if len(account) > MAX_ACCOUNT_LENGTH or len(real_name) > MAX_ACCOUNT_LENGTH:
        raise DomainError(
            _("The account has at most %(max)d characters.") % {"max": MAX_ACCOUNT_LENGTH},
            code="account_too_long",
        )
    with transaction.atomic():
        payee, _created = PayeeAccount.objects.update_or_create(
            merchant_id=distributor.merchant_id,
            distributor=distributor,
            provider=provider,
            defaults={"account": account, "real_name": real_name},
        )
    return payee
