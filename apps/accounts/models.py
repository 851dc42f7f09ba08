from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):  # type: ignore[django-manager-missing]
    """Everyone who signs in: operators, merchant staff, distributors and consumers alike.

    What a user may do comes from what they are attached to (a merchant staff membership, a
    distributor profile in a store), never from a type field on the user.
    """

    phone = models.CharField(_("phone"), max_length=32, blank=True)
    nickname = models.CharField(_("nickname"), max_length=64, blank=True)

    @property
    def display_name(self) -> str:
        return self.nickname or self.get_full_name() or self.username
