from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedTextField

# The blind index purpose of ``User.phone_index``.
USER_PHONE = "user.phone"


class User(AbstractUser):  # type: ignore[django-manager-missing]
    """Everyone who signs in: operators, merchant staff, distributors and consumers alike.

    What a user may do comes from what they are attached to (a merchant staff membership, a
    distributor profile in a store), never from a type field on the user.
    """

    # Personal data, encrypted at rest (apps/core/crypto.py); looked up by its blind index
    # (``apps.core.personal.phone_index(phone, purpose=USER_PHONE)``), which whoever sets the phone
    # sets too.
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_index = models.CharField(
        _("phone index"), max_length=64, blank=True, db_index=True, editable=False
    )
    nickname = models.CharField(_("nickname"), max_length=64, blank=True)

    @property
    def display_name(self) -> str:
        return self.nickname or self.get_full_name() or self.username
