"""The catalogue's data version, per merchant: a number in the cache that changes whenever one of
the merchant's products or SKUs is created, edited or deleted (or its stock is set by staff).

Pages built from the catalogue (the storefront's cached pages) keep the version they were built
from and are rebuilt when it moved, so an edit shows at once. Orders reserving stock do not move
it: stock figures on cached pages are as old as the cache's timeout at most.
"""

import time

from django.core.cache import cache
from django.db import transaction


def catalogue_version_key(merchant_id: int) -> str:
    return f"catalogue-version:{merchant_id}"


def catalogue_version_of(value: object) -> int:
    """The version a ``cache.get(catalogue_version_key(…))`` returned (0: none yet)."""
    return value if isinstance(value, int) else 0


def catalogue_changed(*, merchant_id: int) -> None:
    """Move the merchant's catalogue version once the current transaction commits."""
    transaction.on_commit(lambda: _bump(merchant_id))


def _bump(merchant_id: int) -> None:
    key = catalogue_version_key(merchant_id)
    try:
        cache.incr(key)
    except ValueError:
        # Not there (never set, or evicted): start from the clock, so a version number a page
        # was built from before the eviction is never handed out again.
        if not cache.add(key, time.time_ns(), timeout=None):
            cache.incr(key)
