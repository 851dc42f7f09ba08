"""Sweepers find left-behind work in the platform scope and enqueue each piece from its own
merchant's scope, so that the work itself runs where row-level security walls it in."""

import pytest

from apps.products.models import Product
from apps.tenancy.scope import MERCHANT, Scope, current_scope, platform_scope
from apps.tenancy.tasks import delay_in_merchant_scopes
from tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


class RecordingTask:
    def __init__(self) -> None:
        self.calls: list[tuple[int, Scope]] = []

    def delay(self, pk: int) -> None:
        self.calls.append((pk, current_scope()))


def test_each_row_is_enqueued_from_its_merchants_scope():
    first, second = MerchantFactory(), MerchantFactory()
    tea = ProductFactory(merchant=first)
    honey, jam = ProductFactory(merchant=second), ProductFactory(merchant=second)
    task = RecordingTask()

    with platform_scope(reason="test: a sweeper"):
        enqueued = delay_in_merchant_scopes(task, Product, [jam.pk, tea.pk, honey.pk, 0])
        assert current_scope().reason == "test: a sweeper"

    assert enqueued == 3
    assert task.calls == [
        (tea.pk, Scope(kind=MERCHANT, merchant_id=first.pk)),
        (honey.pk, Scope(kind=MERCHANT, merchant_id=second.pk)),
        (jam.pk, Scope(kind=MERCHANT, merchant_id=second.pk)),
    ]


def test_nothing_left_behind_enqueues_nothing():
    task = RecordingTask()

    assert delay_in_merchant_scopes(task, Product, []) == 0
    assert task.calls == []
