import random
import threading
import time

import pytest
from django.db import connection

from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join, distributor_move, distributors_set_status
from apps.ledger.models import Wallet
from apps.tenancy.scope import owner_connection
from tests.factories import MerchantFactory, UserFactory
from tests.support.tree import FRESH_ROOT, assert_trees_valid, shape

from .conftest import BARRIER_TIMEOUT, JOIN_TIMEOUT, Outcome, race

pytestmark = pytest.mark.django_db(transaction=True)


def join(merchant, user, invite_code=None):
    return lambda: distributor_join(merchant=merchant, user=user, invite_code=invite_code)


def test_twenty_concurrent_joins_under_one_inviter_keep_the_tree_valid(merchant, chain):
    # given a chain of four; twenty people join under chain[1] at the same moment
    users = UserFactory.create_batch(20)

    outcomes = race([join(merchant, user, chain[1].invite_code) for user in users])

    # then all joined under chain[1], each in its own slice of chain[1]'s tail, and the tree is valid
    assert [outcome.error for outcome in outcomes] == [None] * 20
    joined = [outcome.value for outcome in outcomes]
    assert {d.parent_id for d in joined} == {chain[1].pk}
    numbers = assert_trees_valid()
    assert numbers[chain[0].pk] == (chain[0].tree_id, *FRESH_ROOT, 0)
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
    numbers = assert_trees_valid()
    assert numbers[chain[0].pk] == (chain[0].tree_id, *FRESH_ROOT, 0)
    assert len(numbers) == 32
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
    numbers = assert_trees_valid()
    assert Distributor.objects.filter(tree_id=chain[0].tree_id).count() == 14
    assert Distributor.objects.filter(tree_id=other_root.tree_id).count() == 11
    assert numbers[chain[0].pk][1:] == numbers[other_root.pk][1:] == (*FRESH_ROOT, 0)


def test_ten_concurrent_root_joins_in_two_merchants_get_distinct_trees(merchant, other_merchant):
    # given ten people joining without a code, five in each store, at the same moment
    users = UserFactory.create_batch(10)
    stores = [merchant, other_merchant] * 5

    outcomes = race([join(store, user) for store, user in zip(stores, users, strict=True)])

    # then ten roots with ten distinct tree ids, each a valid one-node tree
    assert [outcome.error for outcome in outcomes] == [None] * 10
    roots = [outcome.value for outcome in outcomes]
    assert len({root.tree_id for root in roots}) == 10
    numbers = assert_trees_valid()
    assert sorted(numbers.values()) == [(tree_id, *FRESH_ROOT, 0) for tree_id in range(1, 11)]
    assert Distributor.objects.filter(merchant=merchant).count() == 5
    assert Distributor.objects.filter(merchant=other_merchant).count() == 5


def test_the_same_user_joining_ten_times_at_once_gets_one_profile(merchant, chain):
    user = UserFactory()

    outcomes = race([join(merchant, user, chain[2].invite_code) for _ in range(10)])

    assert [outcome.error for outcome in outcomes] == [None] * 10
    assert len({outcome.value.pk for outcome in outcomes}) == 1
    assert Distributor.objects.filter(merchant=merchant, user=user).count() == 1
    assert Wallet.objects.filter(distributor__user=user).count() == 1
    assert_trees_valid()


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
    numbers = assert_trees_valid()
    tree_ids = [tree_id for tree_id, _lft, _rght, level in numbers.values() if level == 0]
    assert len(tree_ids) == len(set(tree_ids)) == 3 + 6


def move(distributor, new_parent):
    return lambda: distributor_move(distributor=distributor, new_parent=new_parent)


def grow(merchant, parent, count):
    """``count`` distributors, each invited by the one before, the first by ``parent``."""
    nodes = []
    for _ in range(count):
        inviter = nodes[-1] if nodes else parent
        nodes.append(
            distributor_join(merchant=merchant, user=UserFactory(), invite_code=inviter.invite_code)
        )
    return nodes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_joins_racing_moves_in_the_same_trees_keep_every_tree_valid(merchant, seed):
    # given three trees:  r1 ─ a1 ─ a2 ─ a3, r1 ─ a4;  r2 ─ b1 ─ b2 ─ b3, r2 ─ b4;  r3 ─ c1 ─ c2
    r1, r2, r3 = (distributor_join(merchant=merchant, user=UserFactory()) for _ in range(3))
    a1, a2, a3 = grow(merchant, r1, 3)
    (a4,) = grow(merchant, r1, 1)
    b1, b2, b3 = grow(merchant, r2, 3)
    (b4,) = grow(merchant, r2, 1)
    c1, c2 = grow(merchant, r3, 2)
    everyone = [r1, r2, r3, a1, a2, a3, a4, b1, b2, b3, b4, c1, c2]
    # moves that are valid in any order: between trees both ways, out of a subtree that is itself
    # moving, and to the top (a new tree), racing twenty joins under (seeded) random nodes and two
    # joins that start new trees
    moves = {a2: b4, b2: a4, c1: None, a3: r3, b3: r1, c2: a1}
    chooser = random.Random(seed)
    inviters = [chooser.choice(everyone) for _ in range(20)]
    joiners = UserFactory.create_batch(22)
    calls = [move(node, target) for node, target in moves.items()]
    calls += [
        join(merchant, user, inviter.invite_code)
        for user, inviter in zip(joiners[:20], inviters, strict=True)
    ]
    calls += [join(merchant, user) for user in joiners[20:]]
    chooser.shuffle(calls)

    outcomes = race(calls)

    assert [outcome.error for outcome in outcomes] == [None] * 28
    parents = dict(Distributor.objects.values_list("pk", "parent_id"))
    assert {node.pk: parents[node.pk] for node in moves} == {
        node.pk: (target.pk if target is not None else None) for node, target in moves.items()
    }
    joined = {d.user_id: d for d in Distributor.objects.filter(user__in=joiners)}
    assert [joined[user.pk].parent_id for user in joiners[:20]] == [i.pk for i in inviters]
    assert [joined[user.pk].parent_id for user in joiners[20:]] == [None, None]
    numbers = assert_trees_valid()
    roots = {pk for pk, parent_id in parents.items() if parent_id is None}
    assert roots == {r1.pk, r2.pk, r3.pk, c1.pk} | {joined[u.pk].pk for u in joiners[20:]}
    assert sorted(numbers[pk][0] for pk in roots) == [1, 2, 3, 4, 5, 6]
    assert len(numbers) == 13 + 22


def wait_until(condition, timeout=BARRIER_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def waiting_for_a_lock() -> int:
    # As the owner: the application role sees no other session's state.
    with owner_connection("test: sessions waiting"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class Step(threading.Thread):
    def __init__(self, call):
        super().__init__()
        self.call, self.outcome = call, Outcome()

    def run(self):
        try:
            self.outcome.value = self.call()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.outcome.error = error
        finally:
            connection.close()


def test_a_join_whose_inviter_is_moved_to_another_tree_meanwhile_holds_the_new_trees_lock(
    merchant, monkeypatch
):
    # given r1 ─ inviter and r2 ─ left: the inviter is moved under r2, to the right of left
    r1, r2 = (distributor_join(merchant=merchant, user=UserFactory()) for _ in range(2))
    (inviter,) = grow(merchant, r1, 1)
    (left,) = grow(merchant, r2, 1)
    mover_locked, mover_go, joiner_ready, joiner_go = (threading.Event() for _ in range(4))
    threads: dict[str, threading.Thread] = {}
    manager_class = type(Distributor.objects)
    original_move_node, original_save = manager_class.move_node, Distributor.save

    def paused_move_node(self, node, target, position="last-child"):
        if threading.current_thread() is threads.get("mover"):
            mover_locked.set()
            assert mover_go.wait(JOIN_TIMEOUT)
        return original_move_node(self, node, target, position)

    def paused_save(self, *args, **kwargs):
        if threading.current_thread() is threads.get("joiner") and self._state.adding:
            joiner_ready.set()
            assert joiner_go.wait(JOIN_TIMEOUT)
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(manager_class, "move_node", paused_move_node)
    monkeypatch.setattr(Distributor, "save", paused_save)
    threads["mover"] = Step(move(inviter, r2))
    threads["joiner"] = Step(join(merchant, UserFactory(), inviter.invite_code))
    # "other" needs r2's exclusive lock (a status change), which the joiner's shared lock blocks
    threads["other"] = Step(lambda: suspend_with_the_service(left.pk))
    other_in_r2 = Step(join(merchant, UserFactory(), left.invite_code))

    # when the move holds its locks, the joiner reads the inviter (still in r1's tree) and waits
    threads["mover"].start()
    assert mover_locked.wait(BARRIER_TIMEOUT)
    threads["joiner"].start()
    wait_until(lambda: waiting_for_a_lock() == 1)
    # and the move commits; the joiner goes on to insert under the inviter, now in r2's tree
    mover_go.set()
    threads["mover"].join(JOIN_TIMEOUT)
    assert joiner_ready.wait(BARRIER_TIMEOUT)
    # then a join under another parent of r2 goes ahead (shared lock, disjoint free space) ...
    other_in_r2.start()
    other_in_r2.join(JOIN_TIMEOUT)
    assert other_in_r2.outcome.error is None
    # ... but a status change in r2's tree must wait for the joiner
    threads["other"].start()
    wait_until(lambda: waiting_for_a_lock() == 1 or not threads["other"].is_alive())
    other_waited = threads["other"].is_alive()
    joiner_go.set()
    threads["joiner"].join(JOIN_TIMEOUT)
    threads["other"].join(JOIN_TIMEOUT)

    outcomes = [threads[name].outcome for name in ("mover", "joiner", "other")]
    assert [outcome.error for outcome in outcomes] == [None, None, None]
    numbers = assert_trees_valid()
    assert other_waited, "a status change in r2's tree did not wait for the joiner writing into it"
    assert outcomes[2].value == 1
    joiner, other = outcomes[1].value, other_in_r2.outcome.value
    assert (joiner.parent_id, other.parent_id) == (inviter.pk, left.pk)
    # r2 ─ left ─ other, r2 ─ inviter ─ joiner
    assert shape(r1, r2, left, other, inviter, joiner) == [
        (None, r1.tree_id, 0),
        (None, r2.tree_id, 0),
        (r2.pk, r2.tree_id, 1),
        (left.pk, r2.tree_id, 2),
        (r2.pk, r2.tree_id, 1),
        (inviter.pk, r2.tree_id, 2),
    ]
    assert len(numbers) == 6


def suspend_with_the_service(pk):
    return distributors_set_status(
        queryset=Distributor.objects.filter(pk=pk),
        old=Distributor.Status.ACTIVE,
        new=Distributor.Status.SUSPENDED,
    )


def suspend_with_a_plain_update(pk):
    # any other writer of the row: only the move's row lock keeps it from being overwritten
    return Distributor.objects.filter(pk=pk).update(status=Distributor.Status.SUSPENDED)


@pytest.mark.parametrize("suspend", [suspend_with_the_service, suspend_with_a_plain_update])
def test_a_suspension_committed_while_a_move_holds_its_locks_is_not_undone(
    merchant, monkeypatch, suspend
):
    # given r1 ─ node and r2; node is being moved under r2 and pauses after reading the nodes
    r1, r2 = (distributor_join(merchant=merchant, user=UserFactory()) for _ in range(2))
    (node,) = grow(merchant, r1, 1)
    mover_read, mover_go = threading.Event(), threading.Event()
    manager_class = type(Distributor.objects)
    original_move_node = manager_class.move_node

    def paused_move_node(self, moved, target, position="last-child"):
        mover_read.set()
        assert mover_go.wait(JOIN_TIMEOUT)
        return original_move_node(self, moved, target, position)

    monkeypatch.setattr(manager_class, "move_node", paused_move_node)
    mover = Step(move(node, r2))
    suspender = Step(lambda: suspend(node.pk))

    # when the node is suspended from another connection between the move's read and its save
    mover.start()
    assert mover_read.wait(BARRIER_TIMEOUT)
    suspender.start()
    wait_until(lambda: waiting_for_a_lock() == 1 or not suspender.is_alive())
    suspender_waited = suspender.is_alive()
    mover_go.set()
    mover.join(JOIN_TIMEOUT)
    suspender.join(JOIN_TIMEOUT)

    # then both happened: the suspension waited for the move and is still in force after it
    assert (mover.outcome.error, suspender.outcome.error) == (None, None)
    assert suspender.outcome.value == 1
    moved = Distributor.objects.get(pk=node.pk)
    assert (moved.parent_id, moved.status) == (r2.pk, Distributor.Status.SUSPENDED)
    assert suspender_waited, "the suspension did not wait for the move holding the node"
    assert_trees_valid()
    assert shape(node) == [(r2.pk, r2.tree_id, 1)]


@pytest.mark.parametrize("seed", [11, 12])
def test_concurrent_joins_that_run_out_of_room_respace_and_keep_the_tree_valid(
    merchant, chain, monkeypatch, seed
):
    # given tiny intervals (roots 64 wide, tails of 4): most joins find no room and respace under
    # the exclusive lock while others hold the shared one; thirty joins under (seeded) random
    # nodes and two moves, all at once
    from apps.distributors import tree

    monkeypatch.setattr(tree, "TREE_ROOT_WIDTH", 64)
    monkeypatch.setattr(tree, "RESPACE_MIN_UNIT", 4)
    # The chain fixture was built before the patch (its tree is 2**60 wide and never runs out), so
    # the tiny intervals come from a tree started now: a root 64 wide and a chain of five under it,
    # each taking half of its parent's tail, the last left with no free tail at all.
    tiny_root = distributor_join(merchant=merchant, user=UserFactory())
    tiny = [tiny_root, *grow(merchant, tiny_root, 5)]
    assert tree._free_slot(tiny[-1]) is None
    existing = list(chain) + grow(merchant, chain[0], 3) + grow(merchant, chain[1], 3) + tiny
    tree.respace_stats.clear()
    chooser = random.Random(seed)
    # the full node is one of the inviters, so at least one join respaces whatever the order
    inviters = [tiny[-1]] + [chooser.choice(existing) for _ in range(29)]
    users = UserFactory.create_batch(30)
    calls = [
        join(merchant, user, inviter.invite_code)
        for user, inviter in zip(users, inviters, strict=True)
    ]
    calls += [move(existing[4], chain[3]), move(existing[7], None)]

    outcomes = race(calls)

    assert [outcome.error for outcome in outcomes] == [None] * 32
    assert [outcome.value.parent_id for outcome in outcomes[:30]] == [i.pk for i in inviters]
    assert tree.respace_stats["respaces"] > 0
    assert len(assert_trees_valid()) == 16 + 30
