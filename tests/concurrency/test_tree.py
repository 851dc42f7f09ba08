import random

import pytest

from apps.commissions.models import Wallet
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from tests.factories import MerchantFactory, UserFactory

from .conftest import assert_trees_are_what_rebuild_makes, race

pytestmark = pytest.mark.django_db(transaction=True)


def join(merchant, user, invite_code=None):
    return lambda: distributor_join(merchant=merchant, user=user, invite_code=invite_code)


def test_twenty_concurrent_joins_under_one_inviter_keep_the_tree_valid(merchant, chain):
    # given a chain of four; twenty people join under chain[1] at the same moment
    users = UserFactory.create_batch(20)

    outcomes = race([join(merchant, user, chain[1].invite_code) for user in users])

    # then all joined under chain[1], and the stored numbering is exactly what mptt's rebuild makes
    assert [outcome.error for outcome in outcomes] == [None] * 20
    joined = [outcome.value for outcome in outcomes]
    assert {d.parent_id for d in joined} == {chain[1].pk}
    numbers = assert_trees_are_what_rebuild_makes()
    assert numbers[chain[0].pk] == (chain[0].tree_id, 1, 2 * 24, 0)
    assert Distributor.objects.get(pk=chain[1].pk).get_children().count() == 21
    assert Distributor.objects.filter(parent=chain[1], level=2).count() == 21
    assert Wallet.objects.count() == 24


def test_twenty_concurrent_joins_under_random_nodes_keep_the_tree_valid(merchant, chain):
    # given a tree of four grown to twelve, and twenty joiners each under a (seeded) random node
    existing = list(chain)
    for user in UserFactory.create_batch(8):
        inviter = existing[len(existing) % 4]
        existing.append(
            distributor_join(merchant=merchant, user=user, invite_code=inviter.invite_code)
        )
    chooser = random.Random(20240601)
    inviters = [chooser.choice(existing) for _ in range(20)]
    users = UserFactory.create_batch(20)

    outcomes = race(
        [
            join(merchant, user, inviter.invite_code)
            for user, inviter in zip(users, inviters, strict=True)
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 20
    assert [outcome.value.parent_id for outcome in outcomes] == [inviter.pk for inviter in inviters]
    numbers = assert_trees_are_what_rebuild_makes()
    assert numbers[chain[0].pk] == (chain[0].tree_id, 1, 2 * 32, 0)
    assert {tree_id for tree_id, *_rest in numbers.values()} == {chain[0].tree_id}
    for outcome, inviter in zip(outcomes, inviters, strict=True):
        node = Distributor.objects.get(pk=outcome.value.pk)
        assert node.level == Distributor.objects.get(pk=inviter.pk).level + 1


def test_concurrent_joins_in_two_trees_keep_both_valid(merchant, other_merchant, chain):
    other_root = distributor_join(merchant=other_merchant, user=UserFactory())
    users = UserFactory.create_batch(20)
    calls = [
        join(merchant, user, chain[3].invite_code)
        if i % 2
        else join(other_merchant, user, other_root.invite_code)
        for i, user in enumerate(users)
    ]

    outcomes = race(calls)

    assert [outcome.error for outcome in outcomes] == [None] * 20
    numbers = assert_trees_are_what_rebuild_makes()
    assert numbers[chain[0].pk][1:] == (1, 2 * 14, 0)
    assert numbers[other_root.pk][1:] == (1, 2 * 11, 0)


def test_ten_concurrent_root_joins_in_two_merchants_get_distinct_trees(merchant, other_merchant):
    # given ten people joining without a code, five in each store, at the same moment
    users = UserFactory.create_batch(10)
    stores = [merchant, other_merchant] * 5

    outcomes = race([join(store, user) for store, user in zip(stores, users, strict=True)])

    # then ten roots with ten distinct tree ids, each a valid one-node tree
    assert [outcome.error for outcome in outcomes] == [None] * 10
    roots = [outcome.value for outcome in outcomes]
    assert len({root.tree_id for root in roots}) == 10
    numbers = assert_trees_are_what_rebuild_makes()
    assert sorted(numbers.values()) == [(tree_id, 1, 2, 0) for tree_id in range(1, 11)]
    assert Distributor.objects.filter(merchant=merchant).count() == 5
    assert Distributor.objects.filter(merchant=other_merchant).count() == 5


def test_the_same_user_joining_ten_times_at_once_gets_one_profile(merchant, chain):
    user = UserFactory()

    outcomes = race([join(merchant, user, chain[2].invite_code) for _ in range(10)])

    assert [outcome.error for outcome in outcomes] == [None] * 10
    assert len({outcome.value.pk for outcome in outcomes}) == 1
    assert Distributor.objects.filter(merchant=merchant, user=user).count() == 1
    assert Wallet.objects.filter(distributor__user=user).count() == 1
    assert_trees_are_what_rebuild_makes()


def test_root_and_child_joins_racing_in_many_stores_keep_every_tree_valid():
    # given three stores with a root each; thirty joins at once: roots and children mixed
    stores = MerchantFactory.create_batch(3)
    roots = [distributor_join(merchant=store, user=UserFactory()) for store in stores]
    users = UserFactory.create_batch(30)
    calls = []
    for i, user in enumerate(users):
        store = stores[i % 3]
        calls.append(
            join(store, user) if i % 5 == 0 else join(store, user, roots[i % 3].invite_code)
        )

    outcomes = race(calls)

    assert [outcome.error for outcome in outcomes] == [None] * 30
    numbers = assert_trees_are_what_rebuild_makes()
    tree_ids = [tree_id for tree_id, _lft, _rght, level in numbers.values() if level == 0]
    assert len(tree_ids) == len(set(tree_ids)) == 3 + 6
