"""The Redis cache backend keeps one client per pool; the catalogue version moves on commit."""

from django.core.cache import cache

from apps.products.versions import catalogue_changed, catalogue_version_key, catalogue_version_of


def test_the_cache_reuses_one_redis_client():
    client = cache._cache.get_client()

    cache.set("client-reuse", 41)
    cache.incr("client-reuse")

    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: one pool, one client
    assert cache.get("client-reuse") == 42


def test_the_catalogue_version_moves_once_the_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    key = catalogue_version_key(987654)
    cache.delete(key)

    with django_capture_on_commit_callbacks() as callbacks:
        catalogue_changed(merchant_id=987654)
        before_commit = cache.get(key)
    for callback in callbacks:
        callback()
    first = catalogue_version_of(cache.get(key))
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_changed(merchant_id=987654)

    assert before_commit is None
    assert first > 1_000_000_000  # started from the clock: never a number handed out before
    assert catalogue_version_of(cache.get(key)) == first + 1
