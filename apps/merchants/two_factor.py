"""Two-factor sign-in (TOTP, django-otp) for the back office.

Required always for the platform operator (superusers; ``FENXIAO_OPERATOR_TWO_FACTOR``) and for a
merchant's staff when the merchant turns ``staff_two_factor_required`` on. A user who must use it
and has not confirmed a code in this session reaches no admin page (``TwoFactorMiddleware``
sends them to set up an authenticator or to enter a code), no session-authenticated API, and gets
no API token without a current code.
"""

from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User

from .models import Merchant


def two_factor_required(user: "User | AnonymousUser") -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return bool(settings.FENXIAO_OPERATOR_TWO_FACTOR)
    return Merchant.objects.filter(
        staff__user=user, status=Merchant.Status.ACTIVE, staff_two_factor_required=True
    ).exists()


def two_factor_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def two_factor_setup_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (made on first call; the same key until it is
    confirmed, so a reload does not invalidate the QR code already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def two_factor_confirm(*, request: Any, device: TOTPDevice, token: str) -> bool:
    """Check ``token`` against ``device``; on success confirm it (first time) and mark this
    session verified."""
    token = "".join(token.split())
    if not token.isdigit() or not device.verify_token(token):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    django_otp.login(request, device)
    return True


def two_factor_token_ok(*, user: User, token: str) -> bool:
    """For the API token endpoint: ``token`` is a current code of the user's authenticator."""
    token = "".join((token or "").split())
    device = two_factor_device(user)
    return bool(token.isdigit() and device is not None and device.verify_token(token))
