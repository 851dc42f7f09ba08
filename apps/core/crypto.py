"""Encryption of secrets and personal data at rest, and keyed blind indexes to look them up.

The whole API:

- ``encrypt(text) -> token`` / ``decrypt(token) -> text``: Fernet (AES-128-CBC + HMAC-SHA256, from
  ``cryptography``) under ``settings.FENXIAO_ENCRYPTION_KEYS``. The first key encrypts; every key
  decrypts, so a new key can be put first while rows written under the old ones still read.
- ``rotate(token) -> token``: the same text encrypted under the first key (``manage.py
  encryption_keys rotate`` does it for every encrypted column).
- ``blind_index(text, purpose=...) -> hex``: HMAC-SHA256 of the text under
  ``settings.FENXIAO_BLIND_INDEX_KEY``, separated per purpose. Fernet tokens differ every time the
  same text is encrypted, so an encrypted column cannot be filtered on: store its blind index
  beside it and filter on that (normalise the text first, e.g. strip spaces, the same way at
  write and at lookup). The index key is not rotated with the encryption keys: changing it would
  change every index.
- ``EncryptedTextField``: a model field that stores ``encrypt(value)`` and reads back the text.
- ``generate_key() -> str``: a new Fernet key.

A token that no configured key opens raises ``DecryptionFailed`` (never returns garbage).
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


class DecryptionFailed(Exception):
    """The token was not made by any of the configured keys, or it was altered."""


def generate_key() -> str:
    """A new random key for ``FENXIAO_ENCRYPTION_KEYS`` (url-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """The keys of a comma-separated setting, each checked; a bad key raises ImproperlyConfigured
    naming its position (never the key itself)."""
    keys = [key.strip() for key in (value.split(",") if isinstance(value, str) else value)]
    keys = [key for key in keys if key]
    if not keys:
        raise ImproperlyConfigured("FENXIAO_ENCRYPTION_KEYS must hold at least one key")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FENXIAO_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(url-safe base64 of 32 bytes; `manage.py encryption_keys new` makes one)"
            ) from None
    return keys


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in parse_keys(settings.FENXIAO_ENCRYPTION_KEYS)])


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    key = settings.FENXIAO_BLIND_INDEX_KEY
    if not key or len(key) < 32:
        raise ImproperlyConfigured("FENXIAO_BLIND_INDEX_KEY must be at least 32 characters")
    return key.encode("utf-8")


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting in ("FENXIAO_ENCRYPTION_KEYS", "FENXIAO_BLIND_INDEX_KEY"):
        _fernet.cache_clear()
        _index_key.cache_clear()


def encrypt(text: str) -> str:
    """The text encrypted under the first key, as an ASCII token."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token made by any configured key. Raises DecryptionFailed."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionFailed("no configured key opens this token") from error


def rotate(token: str) -> str:
    """The token's text encrypted under the first key. Raises DecryptionFailed."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionFailed("no configured key opens this token") from error


def encrypted_by_primary(token: str) -> bool:
    """Whether the first key alone opens the token (rotation has nothing to do for it)."""
    try:
        Fernet(parse_keys(settings.FENXIAO_ENCRYPTION_KEYS)[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def blind_index(text: str, *, purpose: str) -> str:
    """A keyed, deterministic digest of ``text`` (64 hex characters) for equality lookups.

    ``purpose`` (e.g. ``"user.phone"``) separates indexes, so equal texts in different columns do
    not give equal digests.
    """
    message = purpose.encode("utf-8") + b"\x00" + text.encode("utf-8")
    return hmac.new(_index_key(), message, hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Stores ``encrypt(value)``; reads back the text. NULL stays NULL.

    The column holds tokens, so it cannot be filtered, ordered or made unique by its text: add a
    blind index column for lookups. Forms and admin see the text (hide it where it is a secret).
    """

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: filter on its blind index, "
                f"not with __{lookup_name}"
            )
        return super().get_lookup(lookup_name)
