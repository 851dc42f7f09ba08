"""``manage.py encryption_keys new|rotate``: make a key; re-encrypt every encrypted column under the
first key of ``FENXIAO_ENCRYPTION_KEYS``.

Rotating a key: ``new`` prints one; put it first in ``FENXIAO_ENCRYPTION_KEYS`` (keep the old keys
after it) and restart; ``rotate`` re-encrypts every row still under an old key; then drop the old
keys. ``rotate`` locks each batch of rows while it rewrites them, so it can run beside the site.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from apps.core import crypto

BATCH = 500


def encrypted_fields() -> list[tuple[type[models.Model], crypto.EncryptedTextField]]:
    """Every concrete EncryptedTextField of every installed model."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, crypto.EncryptedTextField):
                found.append((model, field))
    return found


def rotate_column(model: type[models.Model], field: models.Field) -> tuple[int, int]:
    """Re-encrypt one column under the first key, a locked batch at a time: (rotated, checked)."""
    rotated = checked = 0
    last_pk = None
    manager = model._base_manager
    while True:
        with transaction.atomic():
            rows = manager.filter(**{f"{field.attname}__isnull": False})
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            # Cast to plain text: the token as stored, without the field's decryption.
            batch = list(
                rows.order_by("pk")
                .select_for_update()
                .annotate(token=Cast(field.attname, models.TextField()))
                .values_list("pk", "token")[:BATCH]
            )
            for pk, token in batch:
                checked += 1
                if crypto.encrypted_by_primary(token):
                    continue
                manager.filter(pk=pk).update(
                    **{field.attname: models.Value(crypto.rotate(token), models.TextField())}
                )
                rotated += 1
        if len(batch) < BATCH:
            return rotated, checked
        last_pk = batch[-1][0]


class Command(BaseCommand):
    help = "new: print a new encryption key. rotate: re-encrypt all encrypted data under the first key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["new", "rotate"])

    def handle(self, *args, action: str, **options) -> None:
        if action == "new":
            self.stdout.write(crypto.generate_key())
            self.stderr.write(
                "Put it first in FENXIAO_ENCRYPTION_KEYS (old keys after it), restart, then run "
                "`manage.py encryption_keys rotate`."
            )
            return
        total = 0
        for model, field in encrypted_fields():
            try:
                rotated, checked = rotate_column(model, field)
            except crypto.DecryptionFailed:
                raise CommandError(
                    f"{model._meta.label}.{field.name}: a row no configured key opens; "
                    "add its key to FENXIAO_ENCRYPTION_KEYS and run again"
                ) from None
            total += rotated
            self.stdout.write(
                f"{model._meta.label}.{field.name}: {rotated} of {checked} rows re-encrypted"
            )
        self.stdout.write(f"Done: {total} values now under the first key.")
