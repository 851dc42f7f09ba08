"""Reads of the member programme."""

from .models import MemberSettings


def member_settings_for(*, merchant_id: int) -> MemberSettings:
    """The store's member settings, or the defaults (unsaved) if it never changed them."""
    found = MemberSettings.objects.filter(merchant_id=merchant_id).first()
    return found if found is not None else MemberSettings(merchant_id=merchant_id)
