import pytest
from hypothesis import HealthCheck, settings

from apps.distributors.services import distributor_join
from apps.orders.services import Recipient

from .factories import MerchantFactory, MerchantStaffFactory, SkuFactory, UserFactory

pytest_plugins = ["tests.support.celery_worker"]

# Property tests judge correctness, not speed: the suite runs on two cores shared with other work,
# where one example can take longer than Hypothesis's 200 ms deadline and data generation can trip
# its "too slow" health check. A test's own @settings still overrides what it names.
settings.register_profile(
    "fenxiao", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("fenxiao")

# Folders whose tests take seconds each: marked slow so that `make test-fast` can leave them out
# (`make test` runs everything). A slow test elsewhere carries @pytest.mark.slow itself.
SLOW_FOLDERS = {"browser", "concurrency", "worker"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        in_slow_folder = len(parts) > 1 and parts[0] == "tests" and parts[1] in SLOW_FOLDERS
        starts_processes = item.get_closest_marker("browser") or item.get_closest_marker(
            "celery_worker"
        )
        if in_slow_folder or starts_processes:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="session")
def _test_code_in_platform_scope():
    """Row-level security is on in the suite: every connection is the application role, and the
    policies show a session only its scope's rows. Test code itself (factories, direct service
    calls, assertions on the database) runs in the platform scope, set here as the process's
    default; a request under test (test client, API client, live server, WebSocket) runs in the
    scope the middleware (or the consumer) chooses for it, and a task in the scope its message
    carries, because each replaces this default with its own while it runs. tests/tenancy shows
    the walls without this default."""
    from apps.tenancy.scope import PLATFORM, Scope, set_process_default

    set_process_default(Scope(kind=PLATFORM, reason="test code"))
    yield
    set_process_default(None)


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


@pytest.fixture
def staff_user(merchant):
    return MerchantStaffFactory(merchant=merchant).user


@pytest.fixture
def sku(merchant):
    return SkuFactory(product__merchant=merchant)


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def recipient():
    return Recipient(name="Li Lei", phone="13800000000", address="1 Nanjing Road, Shanghai")


@pytest.fixture
def chain(merchant):
    """Four distributors, each inviting the next: chain[0] is the root, chain[3] the deepest."""
    distributors = [distributor_join(merchant=merchant, user=UserFactory())]
    for _ in range(3):
        distributors.append(
            distributor_join(
                merchant=merchant, user=UserFactory(), invite_code=distributors[-1].invite_code
            )
        )
    return distributors


@pytest.fixture(autouse=True)
def _no_store_pages_of_earlier_tests():
    """Cached signed-out store pages are keyed by path (apps/storefront/page_cache.py): a test that
    builds a store under a slug an earlier test used (the demo's ``demo-tea``) must not be served
    that test's pages. The run's own key prefix (config/settings/test.py) keeps other runs out."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("store-page:*"), count=1000))
    if keys:
        client.delete(*keys)
