"""Checks of the distributor trees (gapped nested sets: validity is ``tree_check``, not equality
with what mptt's ``rebuild()`` makes, since the free space differs)."""

from apps.distributors.models import Distributor
from apps.distributors.tree import ROOT_LFT, TREE_ROOT_WIDTH, trees_check


def tree_numbers() -> dict[int, tuple[int, int, int, int]]:
    return {
        pk: (tree_id, lft, rght, level)
        for pk, tree_id, lft, rght, level in Distributor.objects.values_list(
            "pk", "tree_id", "lft", "rght", "level"
        )
    }


def assert_trees_valid() -> dict[int, tuple[int, int, int, int]]:
    """Every tree passes ``tree_check``, and the parent-key ancestors of every node are exactly the
    nodes whose intervals contain it (checked here again, naively). Returns the stored numbers."""
    assert trees_check() == {}
    numbers = tree_numbers()
    parents = dict(Distributor.objects.values_list("pk", "parent_id"))
    for pk, (tree_id, lft, rght, _level) in numbers.items():
        by_key = set()
        parent = parents[pk]
        while parent is not None:
            by_key.add(parent)
            parent = parents[parent]
        by_interval = {
            other
            for other, (other_tree, other_lft, other_rght, _l) in numbers.items()
            if other_tree == tree_id and other_lft < lft and rght < other_rght
        }
        assert by_key == by_interval, f"node {pk}: ancestors {by_key} by key, {by_interval}"
    return numbers


def shape(*nodes: Distributor) -> list[tuple[int | None, int, int]]:
    """(parent_id, tree_id, level) of each node, read from the database."""
    return [
        Distributor.objects.values_list("parent_id", "tree_id", "level").get(pk=node.pk)
        for node in nodes
    ]


FRESH_ROOT = (ROOT_LFT, ROOT_LFT + TREE_ROOT_WIDTH)
