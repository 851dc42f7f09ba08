"""The distributor tree: a gapped nested set on top of django-mptt, and its locking protocol.

Why gapped. django-mptt numbers a tree 1…2n, so inserting a node shifts the bounds of every node to
its right: a join into a tree of 100,000 rewrote tens of thousands of rows (about 87 ms at 10,000
nodes, growing linearly). Here ``lft``/``rght`` are 64-bit and every interval keeps free space at its
end (its "tail"), so a new child of P is written into P's tail and no other row changes:

- a root is given the interval ``[ROOT_LFT, ROOT_LFT + TREE_ROOT_WIDTH]`` (2**60 wide);
- a child of P starts after P's last child (or after P.lft) and takes a share of P's free tail,
  leaving the rest for P's later children: half for the first child, then ``free // (2 + used //
  free)`` (``used``: what the earlier children took), so the shares of a parent with many recruits
  shrink roughly harmonically rather than geometrically and its tail lasts;
- when P's tail is used up, the tree is *respaced*: the lowest ancestor A of P (P included) whose
  width leaves at least ``RESPACE_MIN_UNIT`` per nested-set slot of its subtree gets its subtree
  relabelled: ordinary nested-set numbers times a unit, so every node's width is proportional to
  its subtree and every node gets a tail of one unit. When not even the root is wide enough, the
  whole tree is relabelled with a fresh root interval. One ``UPDATE … FROM unnest(…)`` per respace.

The hierarchy is still django-mptt's: ``get_ancestors``/``get_descendants``, ``move_node`` (which
shifts by a subtree's width and so keeps working on gapped trees) and admin code work unchanged.
What no longer holds is ``rght - lft == 2 * descendants + 1``: counts are real counts (see
selectors), and validity is ``tree_check`` rather than "equals ``rebuild()``".

Locking protocol. Every tree write holds, until its transaction ends:

- joins: ``pg_advisory_xact_lock_shared(TREE_LOCK_NAMESPACE, tree_id)`` and the parent's row
  (``SELECT … FOR UPDATE``). Joins under one parent queue on its row; joins under different parents
  write disjoint free space and run in parallel. A join that finds no room rolls back its savepoint
  (PostgreSQL releases the locks taken in it), then takes the exclusive lock, respaces and inserts.
- moves, status changes, respacing and imports: the exclusive
  ``pg_advisory_xact_lock(TREE_LOCK_NAMESPACE, tree_id)`` of every tree they write;
- a new tree (a root join, a move to the top, an imported root) first takes
  ``pg_advisory_xact_lock(NEW_TREE_LOCK_KEY)``: tree ids are max + 1.

``_lock_trees`` takes them in that order (new-tree lock, trees ascending, then the rows by pk
ascending) inside a savepoint, re-reads the nodes, and starts over if a concurrent move changed a
node's tree in between (a bounded number of times, then Conflict).
"""

from collections import Counter
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, NotFound
from apps.merchants.models import Merchant

from .models import Distributor
from .models.distributor import next_tree_id

# Serialises the creation of new trees: a new root's tree_id is max(tree_id) + 1.
NEW_TREE_LOCK_KEY = 7_310_001
# First key of the two-int advisory locks held per tree (the second key is the tree_id).
TREE_LOCK_NAMESPACE = 7_310_002
# How often a writer re-reads after a concurrent move changed a node's tree before giving up.
TREE_LOCK_ATTEMPTS = 5

ROOT_LFT = 1
TREE_ROOT_WIDTH = 2**60
# After a move (mptt shifts by the moved subtree's width) a tree whose root ends above this is
# relabelled, so bounds stay far from the 2**63 limit of bigint.
TREE_RELABEL_ABOVE = 2**61
# A new child takes free >> CHILD_SHARE_SHIFT of its parent's free tail.
CHILD_SHARE_SHIFT = 1
# A respace gives every node a tail of at least this (so ~log2 of it joins below it before the
# next respace there); at least 4, which leaves a leaf room for a child.
RESPACE_MIN_UNIT = 2**16

# Respaces done by this process (the benchmark reports them): respaces, whole_tree, rows.
respace_stats: Counter[str] = Counter()


class _TreeChanged(Exception):
    """A node changed trees between reading it and locking its tree (a concurrent move)."""


class _NoRoom(Exception):
    """The parent's free tail is used up: the join must respace under the exclusive lock."""


# --- locks ----------------------------------------------------------------------------------


def _lock_trees(*pks: int, new_tree: bool = False) -> dict[int, Distributor]:
    """Take the exclusive locks of the trees holding the distributors ``pks`` (see the module
    docstring) and return the nodes, by pk, re-read with their rows locked. ``new_tree`` also takes
    the new-tree lock. Must run inside a transaction, which keeps the locks until it ends.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("_lock_trees needs a transaction to hold the locks in.")
    for _attempt in range(TREE_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                return _lock_trees_once(pks, new_tree=new_tree)
        except _TreeChanged:
            continue
    raise _tree_busy()


def _tree_busy() -> Conflict:
    return Conflict(
        _("The distributor tree is being rearranged right now. Please try again."),
        code="tree_busy",
    )


def _lock_trees_once(pks: tuple[int, ...], *, new_tree: bool) -> dict[int, Distributor]:
    seen = dict(Distributor.objects.filter(pk__in=pks).values_list("pk", "tree_id"))
    with connection.cursor() as cursor:
        if new_tree:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [NEW_TREE_LOCK_KEY])
        for tree_id in sorted(set(seen.values())):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, tree_id])
    nodes = {
        node.pk: node
        for node in Distributor.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    }
    if len(nodes) != len(set(pks)):
        raise NotFound(_("No such distributor."), code="unknown_distributor")
    if any(node.tree_id != seen[pk] for pk, node in nodes.items()):
        raise _TreeChanged
    return nodes


@dataclass(frozen=True)
class _Parent:
    """The few columns of a join's parent, read with its row locked (plain SQL: the hot path)."""

    pk: int
    tree_id: int
    level: int
    lft: int
    rght: int


def _lock_parent_shared(pk: int) -> _Parent:
    """The join's locks, in one statement: the parent's tree shared, then the parent's row.

    The materialized CTE reads the tree id and takes the shared lock before the row is locked (the
    row lock is the last step of the plan); if a move changed the row meanwhile, ``FOR UPDATE``
    returns its newest version while the CTE keeps the tree id it locked, so the two differ.
    Inside a savepoint (a changed tree starts over, and releasing it releases the locks)."""
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS MATERIALIZED (SELECT tree_id,"
            f" pg_advisory_xact_lock_shared(%s, tree_id) FROM {table} WHERE id = %s)"
            f" SELECT d.id, d.tree_id, d.level, d.lft, d.rght, seen.tree_id"
            f" FROM {table} AS d, seen WHERE d.id = %s FOR UPDATE OF d",
            [TREE_LOCK_NAMESPACE, pk, pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("No such distributor."), code="unknown_distributor")
    parent = _Parent(*row[:5])
    if parent.tree_id != row[5]:
        raise _TreeChanged
    return parent


def _lock_new_tree() -> int:
    """Take the new-tree lock and return the next tree id."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [NEW_TREE_LOCK_KEY])
    return next_tree_id()


# --- joins ----------------------------------------------------------------------------------


def tree_insert(
    *,
    merchant: Merchant,
    user: User,
    parent_id: int | None,
    invite_code: str,
    qualification: str = Distributor.Qualification.EVERYONE,
    qualifying_order_id: int | None = None,
) -> Distributor:
    """Write a new distributor into the free tail of distributor ``parent_id`` (a new tree when
    it is None).

    Runs inside the caller's transaction and holds the tree locks until it ends.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("tree_insert needs a transaction to hold the locks in.")
    fields = {
        "merchant": merchant,
        "user": user,
        "invite_code": invite_code,
        "qualification": qualification,
        "qualifying_order_id": qualifying_order_id,
    }
    if parent_id is None:
        tree_id = _lock_new_tree()
        return _insert(fields, None, tree_id, 0, ROOT_LFT, ROOT_LFT + TREE_ROOT_WIDTH)
    for _attempt in range(TREE_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                node = _lock_parent_shared(parent_id)
                slot = _free_slot(node)
                if slot is None:
                    raise _NoRoom
                return _insert(fields, node, node.tree_id, node.level + 1, *slot)
        except _TreeChanged:
            continue
        except _NoRoom:
            break
    else:
        raise _tree_busy()
    locked = _lock_trees(parent_id)[parent_id]
    tree_make_room(node=locked)
    locked.refresh_from_db(fields=["lft", "rght", "tree_id", "level"])
    slot = _free_slot(locked)
    if slot is None:  # pragma: no cover - tree_make_room leaves at least RESPACE_MIN_UNIT
        raise RuntimeError("no room after respacing")
    return _insert(fields, locked, locked.tree_id, locked.level + 1, *slot)


def _free_slot(parent: "Distributor | _Parent") -> tuple[int, int] | None:
    """(lft, rght) for a new last child of ``parent`` in its free tail, or None when full.

    The caller holds the parent's row lock, taken by an earlier statement: this statement's
    snapshot sees every sibling inserted before that lock was granted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(rght) FROM {Distributor._meta.db_table} WHERE parent_id = %s", [parent.pk]
        )
        last = cursor.fetchone()[0]
    start = (last if last is not None else parent.lft) + 1
    free = parent.rght - start
    if free < 2:
        return None
    # The first child takes half the free tail. After that a child's share shrinks with how much
    # the earlier children already took (used ÷ free estimates how many there are, without
    # counting them): a popular inviter's tail lasts for thousands of recruits instead of the
    # ~log2(tail) that halving gives, so it is not respaced (its whole team relabelled under the
    # exclusive lock) every few dozen joins. A chain still halves at every level.
    used = start - (parent.lft + 1)
    share = free >> CHILD_SHARE_SHIFT if used == 0 else free // (2 + used // free)
    return start, start + max(1, share)


def _insert(
    fields: dict,
    parent: "Distributor | _Parent | None",
    tree_id: int,
    level: int,
    lft: int,
    rght: int,
) -> Distributor:
    distributor = Distributor(
        parent_id=parent.pk if parent is not None else None,
        tree_id=tree_id,
        level=level,
        lft=lft,
        rght=rght,
        **fields,
    )
    with Distributor.objects.disable_mptt_updates():
        distributor.save()
    return distributor


# --- respacing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interval:
    pk: int
    lft: int
    rght: int


def tree_make_room(*, node: Distributor) -> None:
    """Respace so that ``node`` has a free tail of at least ``RESPACE_MIN_UNIT``.

    Relabels the subtree of the lowest ancestor (``node`` included) wide enough for it, or the whole
    tree with a fresh root interval. The caller holds the tree's exclusive lock.
    """
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(id, parent_id, lft, rght, depth) AS (
                SELECT id, parent_id, lft, rght, 0 FROM {table} WHERE id = %s
                UNION ALL
                SELECT d.id, d.parent_id, d.lft, d.rght, chain.depth + 1
                FROM {table} d JOIN chain ON d.id = chain.parent_id
            )
            SELECT id, lft, rght FROM chain ORDER BY depth
            """,
            [node.pk],
        )
        chain = [_Interval(*row) for row in cursor.fetchall()]
    for ancestor in chain:
        room = ancestor.rght - ancestor.lft
        cap = room // (2 * _min_unit())
        size = _subtree_size(node.tree_id, ancestor, limit=cap + 1)
        if size <= cap:
            _relabel(node.tree_id, ancestor, size)
            return
    tree_relabel(tree_id=node.tree_id)


def _min_unit() -> int:
    return max(4, RESPACE_MIN_UNIT)


def _subtree_size(tree_id: int, node: _Interval, *, limit: int) -> int:
    """How many nodes ``node``'s subtree has (itself included), counting at most ``limit``."""
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE tree_id = %s"
            " AND lft >= %s AND lft <= %s LIMIT %s) AS limited",
            [tree_id, node.lft, node.rght, limit],
        )
        return cursor.fetchone()[0]


def tree_relabel(*, tree_id: int) -> None:
    """Give the whole tree a fresh root interval and relabel it. Caller holds the exclusive lock."""
    root = Distributor.objects.filter(tree_id=tree_id, parent=None).values_list("pk", "lft", "rght")
    pk, _lft, _rght = root.get()
    size = Distributor.objects.filter(tree_id=tree_id).count()
    width = max(TREE_ROOT_WIDTH, 4 * size * _min_unit())
    interval = _Interval(pk, ROOT_LFT, ROOT_LFT + width)
    respace_stats["whole_tree"] += 1
    _relabel(tree_id, interval, size, relabel_top=True)


def _relabel(tree_id: int, top: _Interval, size: int, *, relabel_top: bool = False) -> None:
    """Nested-set numbers times a unit for ``top``'s subtree, within ``top``'s interval.

    ``top`` keeps its bounds (``relabel_top`` writes the ones given); below it, a node numbered
    (l, r) in an ordinary nested set of the subtree gets ``top.lft + unit * (l, r)``.
    """
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, parent_id FROM {table} WHERE tree_id = %s AND lft >= %s AND lft <= %s"
            " ORDER BY lft",
            [tree_id, *_current_bounds(tree_id, top.pk)],
        )
        rows = cursor.fetchall()
    unit = (top.rght - top.lft) // (2 * max(size, len(rows)))
    numbers = nested_set_numbers(rows)
    ids, lefts, rights = [], [], []
    for pk, (left, right) in numbers.items():
        if pk == top.pk:
            if relabel_top:
                ids.append(pk)
                lefts.append(top.lft)
                rights.append(top.rght)
            continue
        ids.append(pk)
        lefts.append(top.lft + unit * left)
        rights.append(top.lft + unit * right)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET lft = v.lft, rght = v.rght"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, lft, rght)"
            " WHERE d.id = v.id",
            [ids, lefts, rights],
        )
    respace_stats["respaces"] += 1
    respace_stats["rows"] += len(ids)


def _current_bounds(tree_id: int, pk: int) -> tuple[int, int]:
    return Distributor.objects.values_list("lft", "rght").get(pk=pk, tree_id=tree_id)


def nested_set_numbers(rows: list[tuple[int, int | None]]) -> dict[int, tuple[int, int]]:
    """Ordinary nested-set numbers (0-based; the first row is the top, numbered (0, 2n-1)) of
    ``(id, parent_id)`` rows in pre-order (every row after its parent, each subtree contiguous)."""
    numbers: dict[int, tuple[int, int]] = {}
    lefts: dict[int, int] = {}
    stack: list[int] = []
    counter = 0
    for pk, parent_id in rows:
        while stack and stack[-1] != parent_id:
            closed = stack.pop()
            numbers[closed] = (lefts[closed], counter)
            counter += 1
        lefts[pk] = counter
        counter += 1
        stack.append(pk)
    while stack:
        closed = stack.pop()
        numbers[closed] = (lefts[closed], counter)
        counter += 1
    return numbers


def tree_after_move(*, tree_id: int) -> None:
    """Relabel a tree whose root a move pushed far right (mptt shifts by the moved width)."""
    highest = Distributor.objects.filter(tree_id=tree_id, parent=None).values_list(
        "rght", flat=True
    )
    if highest and highest[0] > TREE_RELABEL_ABOVE:
        tree_relabel(tree_id=tree_id)


# --- validity -------------------------------------------------------------------------------


def tree_check(*, tree_id: int) -> list[str]:
    """What is wrong with tree ``tree_id`` (empty: valid).

    Valid: one root (no parent, level 0); lft < rght everywhere; every node's interval strictly
    inside its parent's, with level = parent's + 1; siblings' intervals disjoint; and the nodes
    whose intervals contain a node are exactly its parent-FK ancestors (checked by walking the nodes
    in lft order with the stack of open intervals, whose top must be the parent).
    """
    rows = list(
        Distributor.objects.filter(tree_id=tree_id)
        .order_by("lft", "id")
        .values_list("pk", "parent_id", "lft", "rght", "level")
    )
    problems: list[str] = []
    stack: list[tuple[int, int, int]] = []  # (pk, rght, level) of the open intervals
    roots = 0
    previous_lft: int | None = None
    for pk, parent_id, lft, rght, level in rows:
        if not lft < rght:
            problems.append(f"node {pk}: lft {lft} >= rght {rght}")
        if lft == previous_lft:
            problems.append(f"node {pk}: lft {lft} shared with another node")
        previous_lft = lft
        while stack and stack[-1][1] < lft:
            stack.pop()
        if not stack:
            roots += 1
            if parent_id is not None or level != 0:
                problems.append(f"node {pk}: outside every interval but has a parent or level")
        else:
            top_pk, top_rght, top_level = stack[-1]
            if top_pk != parent_id:
                problems.append(
                    f"node {pk}: innermost enclosing interval is node {top_pk}, parent {parent_id}"
                )
            if not rght < top_rght:
                problems.append(f"node {pk}: interval overlaps the end of node {top_pk}'s")
            if level != top_level + 1:
                problems.append(f"node {pk}: level {level}, enclosing level {top_level}")
        stack.append((pk, rght, level))
    if rows and roots != 1:
        problems.append(f"tree {tree_id}: {roots} roots")
    return problems


def trees_check(*, merchant: Merchant | None = None) -> dict[int, list[str]]:
    """``tree_check`` of every tree (of one merchant): tree_id → problems, only the broken ones.
    Also reports nodes whose parent is in another tree."""
    nodes = Distributor.objects.all()
    if merchant is not None:
        nodes = nodes.filter(merchant=merchant)
    broken: dict[int, list[str]] = {}
    for tree_id in sorted(set(nodes.values_list("tree_id", flat=True))):
        problems = tree_check(tree_id=tree_id)
        if problems:
            broken[tree_id] = problems
    strays = nodes.exclude(parent=None).exclude(parent__tree_id=F("tree_id"))
    for pk, tree_id in strays.values_list("pk", "tree_id"):
        broken.setdefault(tree_id, []).append(f"node {pk}: parent in another tree")
    return broken
