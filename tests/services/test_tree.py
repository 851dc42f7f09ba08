"""The gapped nested set: placement in free tails, respacing, moves, and the validity check."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.distributors import tree
from apps.distributors.models import Distributor
from apps.distributors.selectors import (
    distributor_team,
    distributor_team_size,
    distributor_upline,
)
from apps.distributors.services import distributor_join, distributor_move
from apps.distributors.tree import tree_check, trees_check
from tests.factories import UserFactory
from tests.support.tree import FRESH_ROOT, assert_trees_valid


@pytest.fixture
def tiny_intervals(monkeypatch):
    """Roots 64 wide, respaces leaving tails of 4: the free space runs out after a few joins."""
    monkeypatch.setattr(tree, "TREE_ROOT_WIDTH", 64)
    monkeypatch.setattr(tree, "RESPACE_MIN_UNIT", 4)
    tree.respace_stats.clear()
    return tree.respace_stats


def join_under(merchant, parent=None):
    code = parent.invite_code if parent is not None else None
    return distributor_join(merchant=merchant, user=UserFactory(), invite_code=code)


def test_a_first_child_takes_half_of_the_free_tail_the_next_less_and_nothing_else_changes(
    merchant,
):
    root = join_under(merchant)
    first = join_under(merchant, root)
    before = dict(Distributor.objects.values_list("pk", "lft"))

    second = join_under(merchant, root)

    low, high = FRESH_ROOT
    assert (first.lft, first.rght) == (low + 1, low + 1 + (high - low - 1) // 2)
    start = first.rght + 1
    used, free = start - (low + 1), high - start
    # the first child used about as much as is left: the second takes a third of the tail
    assert used // free == 1
    assert (second.lft, second.rght) == (start, start + free // 3)
    assert {
        pk: lft for pk, lft in Distributor.objects.values_list("pk", "lft") if pk in before
    } == (before)
    assert Distributor.objects.filter(rght__in=[high]).count() == 1


def test_a_join_writes_no_row_but_its_own(merchant, chain):
    user = UserFactory()
    with CaptureQueriesContext(connection) as captured:
        distributor_join(merchant=merchant, user=user, invite_code=chain[2].invite_code)

    writes = [
        " ".join(q["sql"].split()[:3])
        for q in captured.captured_queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    # the new distributor, its audit-trail entry and its wallet: no other distributor's row moves
    assert writes == [
        'INSERT INTO "distributors_distributor"',
        'INSERT INTO "auditlog_logentry"',
        'INSERT INTO "commissions_wallet"',
    ]


def test_a_used_up_tail_is_respaced_and_the_ancestors_stay_right(merchant, tiny_intervals):
    # given a root 64 wide: a chain halves the space at every level, so it runs out within 6
    nodes = [join_under(merchant)]
    for _ in range(12):
        nodes.append(join_under(merchant, nodes[-1]))

    assert tiny_intervals["respaces"] >= 1
    assert_trees_valid()
    deepest = Distributor.objects.get(pk=nodes[-1].pk)
    assert [d.pk for d in deepest.get_ancestors(ascending=True)] == [
        n.pk for n in reversed(nodes[:-1])
    ]
    assert [d.pk for d in distributor_upline(distributor=deepest)] == [
        n.pk for n in (nodes[-2], nodes[-3], nodes[-4])
    ]
    root = Distributor.objects.get(pk=nodes[0].pk)
    assert distributor_team_size(distributor=root) == 12
    team = distributor_team(distributor=root)
    assert [[m.pk for m in team[level]] for level in (1, 2, 3)] == [
        [nodes[1].pk],
        [nodes[2].pk],
        [nodes[3].pk],
    ]


def test_a_tree_too_full_for_its_root_gets_a_fresh_wider_interval(merchant, tiny_intervals):
    root = join_under(merchant)
    for _ in range(40):
        join_under(merchant, root)

    assert tiny_intervals["whole_tree"] >= 1
    root.refresh_from_db()
    # 41 nodes cannot have tails of 4 in 64: the root was widened to 4 × size × unit
    assert root.rght - root.lft > 64
    assert (root.rght - root.lft) % (4 * tree.RESPACE_MIN_UNIT) == 0
    assert Distributor.objects.filter(parent=root).count() == 40
    assert_trees_valid()


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_random_joins_moves_and_respaces_keep_the_tree_valid(merchant, tiny_intervals, seed):
    # given a seeded sequence of joins under random nodes, new roots and moves (never into the
    # moved node's own team), with tiny intervals so that respaces happen all the time
    chooser = random.Random(seed)
    nodes = [join_under(merchant)]
    parents = {nodes[0].pk: None}
    for step in range(120):
        action = chooser.random()
        if action < 0.08:
            node = join_under(merchant)
            parents[node.pk] = None
        elif action < 0.2 and len(nodes) > 2:
            node = chooser.choice(nodes)
            team = set(
                Distributor.objects.get(pk=node.pk)
                .get_descendants(include_self=True)
                .values_list("pk", flat=True)
            )
            candidates = [n for n in nodes if n.pk not in team]
            target = chooser.choice(candidates + [None])
            distributor_move(distributor=node, new_parent=target)
            parents[node.pk] = target.pk if target is not None else None
            assert trees_check() == {}, f"step {step}: move"
            continue
        else:
            parent = chooser.choice(nodes)
            node = join_under(merchant, parent)
            parents[node.pk] = parent.pk
        nodes.append(node)
        assert trees_check() == {}, f"step {step}: join"

    assert tiny_intervals["respaces"] > 0
    assert dict(Distributor.objects.values_list("pk", "parent_id")) == parents
    assert_trees_valid()


def test_a_move_that_pushes_a_root_past_the_threshold_relabels_the_tree(merchant):
    # moving a root (2**60 wide) under another tree's node makes room for it: 2**61 + …
    here = join_under(merchant)
    child = join_under(merchant, here)
    there = join_under(merchant)
    join_under(merchant, there)

    distributor_move(distributor=there, new_parent=child)

    here.refresh_from_db()
    assert (here.lft, here.rght) == FRESH_ROOT
    assert Distributor.objects.filter(tree_id=here.tree_id).count() == 4
    assert_trees_valid()


# --- the check itself can fail --------------------------------------------------------------


def corrupt(node, **fields):
    Distributor.objects.filter(pk=node.pk).update(**fields)


@pytest.mark.parametrize(
    "breakage",
    [
        "child_outside_parent",
        "siblings_overlap",
        "wrong_level",
        "empty_interval",
        "inside_a_sibling",
        "second_root",
    ],
)
def test_tree_check_reports_each_kind_of_corruption(merchant, breakage):
    root = join_under(merchant)
    first = join_under(merchant, root)
    second = join_under(merchant, root)
    assert tree_check(tree_id=root.tree_id) == []

    if breakage == "child_outside_parent":
        corrupt(second, rght=root.rght + 5)
    elif breakage == "siblings_overlap":
        corrupt(second, lft=first.rght - 1)
    elif breakage == "wrong_level":
        corrupt(second, level=2)
    elif breakage == "empty_interval":
        corrupt(second, rght=second.lft)
    elif breakage == "inside_a_sibling":
        corrupt(second, lft=first.lft + 1, rght=first.lft + 2)
    elif breakage == "second_root":
        corrupt(second, lft=root.rght + 1, rght=root.rght + 2)

    assert tree_check(tree_id=root.tree_id) != []
    assert list(trees_check()) == [root.tree_id]


def test_trees_check_reports_a_parent_in_another_tree(merchant):
    root = join_under(merchant)
    other = join_under(merchant)
    child = join_under(merchant, root)
    corrupt(child, parent=other)

    assert root.tree_id in trees_check()


def test_an_inviter_with_many_recruits_is_not_respaced_every_few_joins(merchant):
    # given an inviter with 200 direct recruits in a fresh root interval (2**60): halving the
    # tail at every join would have used it up after about 60 of them
    tree.respace_stats.clear()
    root = join_under(merchant)
    for _ in range(200):
        join_under(merchant, root)

    assert tree.respace_stats["respaces"] == 0
    assert Distributor.objects.filter(parent=root).count() == 200
    assert_trees_valid()
