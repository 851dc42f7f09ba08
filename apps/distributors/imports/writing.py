"""Writing a checked import (see ``checks``): one transaction holding the locks of the trees it grows."""

import secrets
from collections.abc import Iterable

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from apps.accounts.models import USER_PHONE, User
from apps.core.personal import phone_index
from apps.ledger.wallets import wallets_open
from apps.merchants.models import Merchant

from .. import tree
from ..models import Distributor
from ..services import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH
from .checks import (
    ANALYZE_AFTER_ROWS,
    BATCH_SIZE,
    ImportPlan,
    ImportRefused,
    ImportRow,
    Progress,
    import_check,
)


def distributors_import(*, merchant: Merchant, text: str, progress: Progress | None = None) -> int:
    """Check the whole CSV ``text``, then import it in one transaction. Returns the rows imported.
    Raises ImportRefused (nothing written) for a bad file."""
    plan = import_check(merchant=merchant, text=text, progress=progress)
    return import_write(plan=plan, progress=progress)


def import_write(*, plan: ImportPlan, progress: Progress | None = None) -> int:
    rows = plan.rows
    try:
        with transaction.atomic():
            has_roots = any(r.parent_row is None and r.parent_existing is None for r in rows)
            locked = tree._lock_trees(*plan.attach_trees, new_tree=has_roots)
            # the trees as they are under the locks (a move may have come in between)
            plan.attach_trees = {pk: node.tree_id for pk, node in locked.items()}
            _create_users(rows)
            _take_ids(rows)
            codes = _invite_codes(plan.merchant, rows)
            labels = _labels(plan)
            merchant = plan.merchant
            for start in range(0, len(rows), BATCH_SIZE):
                batch = rows[start : start + BATCH_SIZE]
                Distributor.objects.bulk_create(
                    [
                        Distributor(
                            pk=row.pk,
                            merchant=merchant,
                            user_id=row.user_id or 0,  # every row has an account by now
                            parent_id=row.parent_row.pk
                            if row.parent_row is not None
                            else row.parent_existing,
                            invite_code=codes[row.number],
                            **labels[row.pk],
                        )
                        for row in batch
                    ]
                )
                wallets_open(merchant_id=merchant.pk, distributor_ids=[row.pk for row in batch])
                if progress:
                    progress("writing", start + len(batch), len(rows))
            if len(rows) >= ANALYZE_AFTER_ROWS:
                # fresh statistics, or the next queries are planned for the table as it was
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE {Distributor._meta.db_table}")
    except IntegrityError:
        # someone joined or took a code between the check and the locks
        raise ImportRefused(
            None, _("The store's distributors changed while importing. Please try again.")
        ) from None
    return len(rows)


def _create_users(rows: list[ImportRow]) -> None:
    new = [row for row in rows if row.user_id is None]
    users = [
        User(
            username=row.username or row.phone,
            phone=row.phone,
            phone_index=phone_index(row.phone, purpose=USER_PHONE),
            nickname=row.name,
            password=_unusable_password(),
        )
        for row in new
    ]
    for start in range(0, len(users), BATCH_SIZE):
        User.objects.bulk_create(users[start : start + BATCH_SIZE])
    for row, user in zip(new, users, strict=True):
        row.user_id = user.pk


def _unusable_password() -> str:
    """What ``make_password(None)`` makes (never matches any password), without its 40 calls to
    ``secrets.choice`` per account."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _take_ids(rows: list[ImportRow]) -> None:
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk


def _invite_codes(merchant: Merchant, rows: list[ImportRow]) -> dict[int, str]:
    taken = set(Distributor.objects.filter(merchant=merchant).values_list("invite_code", flat=True))
    taken.update(row.invite_code for row in rows if row.invite_code)
    codes = {}
    for row in rows:
        code = row.invite_code
        while not code:
            # 32 letters: a random byte modulo 32 is uniform
            candidate = "".join(
                INVITE_CODE_ALPHABET[byte % len(INVITE_CODE_ALPHABET)]
                for byte in secrets.token_bytes(INVITE_CODE_LENGTH)
            )
            if candidate not in taken:
                code = candidate
                taken.add(code)
        codes[row.number] = code
    return codes


def _labels(plan: ImportPlan) -> dict[int, dict[str, int]]:
    """tree_id, level, lft, rght of every new row; the existing nodes of the trees grown are
    relabelled in the database on the way (one UPDATE per tree)."""
    labels: dict[int, dict[str, int]] = {}
    new_below: dict[int, list[ImportRow]] = {}
    for row in plan.rows:
        if row.parent_existing is not None:
            new_below.setdefault(row.parent_existing, []).append(row)
    for tree_id in sorted(set(plan.attach_trees.values())):
        existing = list(
            Distributor.objects.filter(tree_id=tree_id)
            .order_by("lft")
            .values_list("pk", "parent_id", "level")
        )
        children: dict[int | None, list[int | ImportRow]] = {}
        for pk, parent_id, _level in existing:
            children.setdefault(parent_id, []).append(pk)
        existing_pks = {pk for pk, _parent, _level in existing}
        for parent_pk, new_rows in new_below.items():
            if parent_pk in existing_pks:
                children.setdefault(parent_pk, []).extend(new_rows)
        root_pk = existing[0][0]
        numbered = _number(root_pk, children, tree_id, base_level=0)
        ids, lefts, rights = [], [], []
        for item, values in numbered:
            if isinstance(item, ImportRow):
                labels[item.pk] = values
            else:
                ids.append(item)
                lefts.append(values["lft"])
                rights.append(values["rght"])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Distributor._meta.db_table} AS d SET lft = v.lft, rght = v.rght"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, lft, rght)"
                " WHERE d.id = v.id",
                [ids, lefts, rights],
            )
    roots = [row for row in plan.rows if row.parent_row is None and row.parent_existing is None]
    if roots:
        next_tree_id = (Distributor.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
        for offset, root in enumerate(roots):
            children = {}
            for item, values in _number(root, children, next_tree_id + offset, base_level=0):
                assert isinstance(item, ImportRow)
                labels[item.pk] = values
    return labels


def _number(
    top: "int | ImportRow",
    children: dict,
    tree_id: int,
    *,
    base_level: int,
) -> Iterable[tuple["int | ImportRow", dict[str, int]]]:
    """Gapped labels for ``top``'s subtree: nested-set numbers (pre-order, existing children before
    new ones) times one unit of a fresh root interval. ``children`` maps existing pks to their
    children (pks and new rows); new rows carry their own ``children``."""
    order: list[tuple[int | ImportRow, int]] = []  # pre-order with depth
    stack: list[tuple[int | ImportRow, int]] = [(top, base_level)]
    while stack:
        item, depth = stack.pop()
        order.append((item, depth))
        below = item.children if isinstance(item, ImportRow) else children.get(item, [])
        for child in reversed(below):
            stack.append((child, depth + 1))
    size = len(order)
    width = max(tree.TREE_ROOT_WIDTH, 4 * size * tree._min_unit())
    unit = width // (2 * size)
    numbers: list[tuple[int | ImportRow, dict[str, int]]] = []
    counter = 0
    open_items: list[tuple[int | ImportRow, int, int]] = []  # (item, depth, left number)
    for item, depth in order:
        while open_items and open_items[-1][1] >= depth:
            closed, closed_depth, left = open_items.pop()
            numbers.append((closed, _values(tree_id, closed_depth, left, counter, unit, width)))
            counter += 1
        open_items.append((item, depth, counter))
        counter += 1
    while open_items:
        closed, closed_depth, left = open_items.pop()
        numbers.append((closed, _values(tree_id, closed_depth, left, counter, unit, width)))
        counter += 1
    return numbers


def _values(tree_id: int, level: int, left: int, right: int, unit: int, width: int) -> dict:
    if left == 0:  # the root: the whole fresh interval
        return {
            "tree_id": tree_id,
            "level": level,
            "lft": tree.ROOT_LFT,
            "rght": tree.ROOT_LFT + width,
        }
    return {
        "tree_id": tree_id,
        "level": level,
        "lft": tree.ROOT_LFT + unit * left,
        "rght": tree.ROOT_LFT + unit * right,
    }
