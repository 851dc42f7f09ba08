import pytest

from apps.distributors.services import distributor_join
from apps.orders.services import Recipient

from .factories import MerchantFactory, MerchantStaffFactory, SkuFactory, UserFactory

pytest_plugins = ["tests.support.celery_worker"]


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
