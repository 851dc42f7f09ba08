"""Bulk import of distributors with their uplines from CSV (admin upload and management command).

The file: a header row, then one distributor per row. Columns (header names, any order):

- ``username`` or ``phone`` — who the row is (with both, ``username`` identifies the row and
  ``phone`` is stored on a new account). A phone row is the account with that phone (or with that
  phone as its username; two accounts with the phone refuse the row). Accounts that do not exist
  yet are created, with an unusable password (the person sets one through the usual reset).
- ``name`` (optional) — the display name of a new account.
- ``upline`` (optional) — blank: the row starts a new tree; otherwise another row's username/phone
  in the same file (before or after this row), or the invite code of an existing distributor.
- ``invite_code`` (optional) — keep a code the distributor already uses elsewhere; else generated.

The whole file is checked before anything is written. A bad row (unknown upline, a row listed twice,
uplines going round in a circle, a malformed phone, an account that is already a distributor here, a
code that is taken…) refuses the file with the first bad row's number (the header is row 1) and the
reason; nothing is written. Then everything is written in one transaction holding the exclusive
locks of the trees it grows (and the new-tree lock): the touched trees are relabelled in one pass
(gapped nested-set labels computed here, as ``tree._relabel`` does), the rows go in with
``bulk_create`` (ids taken from the sequence first, so children can name parents), with wallets.
"""

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.ledger.wallets import wallets_open
from apps.merchants.models import Merchant

from . import tree
from .models import Distributor, ImportJob
from .services import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH, INVITE_CODE_PATTERN

PHONE_PATTERN = re.compile(r"^\+?[0-9]{6,20}$")
BATCH_SIZE = 5000
ANALYZE_AFTER_ROWS = 5000
NAME_MAX_LENGTH = User._meta.get_field("nickname").max_length or 64
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length or 150

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total): stage "checking" or "writing"."""


class ImportRefused(DomainError):
    """The file is refused; ``row`` is the first bad row's number (None: the file as a whole)."""

    def __init__(self, row: int | None, reason: str, *, more: int = 0):
        message = reason
        if row is not None:
            message = _("Row %(row)d: %(reason)s") % {"row": row, "reason": reason}
        if more:
            message += " " + _("(and %(count)d more bad rows)") % {"count": more}
        super().__init__(message, code="import_refused")
        self.row, self.reason = row, reason


@dataclass
class _Row:
    number: int
    key: str
    username: str
    phone: str
    name: str
    upline: str
    invite_code: str
    parent_row: "_Row | None" = None
    parent_existing: int | None = None  # pk of an existing distributor
    user_id: int | None = None
    pk: int = 0
    children: list["_Row"] = field(default_factory=list)


@dataclass
class ImportPlan:
    merchant: Merchant
    rows: list[_Row]
    # existing distributor pk → tree_id, of every existing upline
    attach_trees: dict[int, int]


def distributors_import(*, merchant: Merchant, text: str, progress: Progress | None = None) -> int:
    """Check the whole CSV ``text``, then import it in one transaction. Returns the rows imported.
    Raises ImportRefused (nothing written) for a bad file."""
    plan = import_check(merchant=merchant, text=text, progress=progress)
    return import_write(plan=plan, progress=progress)


# --- checking -------------------------------------------------------------------------------


def import_check(*, merchant: Merchant, text: str, progress: Progress | None = None) -> ImportPlan:
    rows = _parse(text)
    if progress:
        progress("checking", 0, len(rows))
    errors: dict[int, str] = {}
    _check_rows(rows, errors)
    _resolve_uplines(merchant, rows, errors)
    _check_cycles(rows, errors)
    _resolve_users(merchant, rows, errors)
    if errors:
        first = min(errors)
        raise ImportRefused(first, errors[first], more=len(errors) - 1)
    attach = {row.parent_existing for row in rows if row.parent_existing is not None}
    attach_trees = dict(Distributor.objects.filter(pk__in=attach).values_list("pk", "tree_id"))
    if progress:
        progress("checking", len(rows), len(rows))
    return ImportPlan(merchant=merchant, rows=rows, attach_trees=attach_trees)


def _parse(text: str) -> list[_Row]:
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise ImportRefused(None, _("The file is empty.")) from None
    except csv.Error as error:
        raise ImportRefused(1, _("not a CSV row (%(error)s).") % {"error": error}) from None
    if "username" not in header and "phone" not in header:
        raise ImportRefused(1, _("the header needs a “username” or a “phone” column."))
    known = {"username", "phone", "name", "upline", "invite_code"}
    unknown = [column for column in header if column not in known]
    if unknown:
        raise ImportRefused(1, _("unknown column “%(column)s”.") % {"column": unknown[0][:40]})
    if len(set(header)) != len(header):
        raise ImportRefused(1, _("a column is named twice."))
    identity = "username" if "username" in header else "phone"
    rows: list[_Row] = []
    number = 1
    try:
        for values in reader:
            number += 1
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise ImportRefused(
                    number,
                    _("%(found)d values, the header has %(expected)d.")
                    % {"found": len(values), "expected": len(header)},
                )
            cells = {column: value.strip() for column, value in zip(header, values, strict=True)}
            rows.append(
                _Row(
                    number=number,
                    key=cells[identity],
                    username=cells.get("username", ""),
                    phone=cells.get("phone", ""),
                    name=cells.get("name", ""),
                    upline=cells.get("upline", ""),
                    invite_code=cells.get("invite_code", "").upper(),
                )
            )
    except csv.Error as error:
        raise ImportRefused(number, _("not a CSV row (%(error)s).") % {"error": error}) from None
    if not rows:
        raise ImportRefused(None, _("The file has no distributors in it."))
    return rows


def _check_rows(rows: list[_Row], errors: dict[int, str]) -> None:
    validate_username = UnicodeUsernameValidator()
    seen: dict[str, int] = {}
    codes: dict[str, int] = {}
    for row in rows:
        if not row.key:
            errors[row.number] = _("the username or phone is missing.")
            continue
        if row.username:
            try:
                validate_username(row.username)
            except ValidationError:
                errors[row.number] = _("“%(value)s” is not a valid username.") % {
                    "value": row.username[:40]
                }
            if len(row.username) > USERNAME_MAX_LENGTH:
                errors[row.number] = _("the username is too long.")
        if row.phone and not PHONE_PATTERN.match(row.phone):
            errors[row.number] = _("“%(value)s” is not a phone number.") % {"value": row.phone[:40]}
        if len(row.name) > NAME_MAX_LENGTH:
            errors[row.number] = _("the name is longer than %(max)d characters.") % {
                "max": NAME_MAX_LENGTH
            }
        if row.invite_code:
            if not INVITE_CODE_PATTERN.match(row.invite_code):
                errors[row.number] = _("“%(code)s” is not a valid invite code.") % {
                    "code": row.invite_code[:40]
                }
            elif row.invite_code in codes:
                errors[row.number] = _("the invite code is also on row %(row)d.") % {
                    "row": codes[row.invite_code]
                }
            else:
                codes[row.invite_code] = row.number
        if row.key in seen:
            errors[row.number] = _("“%(key)s” is already on row %(row)d.") % {
                "key": row.key[:40],
                "row": seen[row.key],
            }
        else:
            seen[row.key] = row.number


def _resolve_uplines(merchant: Merchant, rows: list[_Row], errors: dict[int, str]) -> None:
    by_key: dict[str, _Row] = {}
    for row in rows:
        by_key.setdefault(row.key, row)
    wanted_codes = {
        row.upline.upper()
        for row in rows
        if row.upline and row.upline not in by_key and INVITE_CODE_PATTERN.match(row.upline.upper())
    }
    existing = {
        code: (pk, status)
        for code, pk, status in Distributor.objects.filter(
            merchant=merchant, invite_code__in=wanted_codes
        ).values_list("invite_code", "pk", "status")
    }
    for row in rows:
        if not row.upline:
            continue
        if row.upline == row.key:
            errors.setdefault(row.number, _("the row is its own upline."))
        elif row.upline in by_key:
            row.parent_row = by_key[row.upline]
            row.parent_row.children.append(row)
        elif row.upline.upper() in existing:
            pk, status = existing[row.upline.upper()]
            if status != Distributor.Status.ACTIVE:
                errors.setdefault(
                    row.number,
                    _("the upline “%(upline)s” is suspended.") % {"upline": row.upline[:40]},
                )
            row.parent_existing = pk
        else:
            errors.setdefault(
                row.number,
                _(
                    "the upline “%(upline)s” is neither a row of this file nor an invite code of "
                    "this store."
                )
                % {"upline": row.upline[:40]},
            )
    taken = set(
        Distributor.objects.filter(
            merchant=merchant, invite_code__in=[row.invite_code for row in rows if row.invite_code]
        ).values_list("invite_code", flat=True)
    )
    for row in rows:
        if row.invite_code in taken:
            errors.setdefault(
                row.number,
                _("the invite code %(code)s is taken in this store.") % {"code": row.invite_code},
            )


def _check_cycles(rows: list[_Row], errors: dict[int, str]) -> None:
    """Rows whose uplines inside the file go round in a circle (never reaching a root or an
    existing distributor)."""
    state: dict[int, int] = {}  # id(row) → 1 on the current path, 2 done
    for start in rows:
        path: list[_Row] = []
        row: _Row | None = start
        while row is not None and state.get(id(row)) is None:
            state[id(row)] = 1
            path.append(row)
            row = row.parent_row
        if row is not None and state[id(row)] == 1:
            circle = path[path.index(row) :]
            numbers = sorted(member.number for member in circle)
            for member in circle:
                errors.setdefault(
                    member.number,
                    _("the uplines of rows %(rows)s go round in a circle.")
                    % {"rows": ", ".join(str(n) for n in numbers[:10])},
                )
        for member in path:
            state[id(member)] = 2


def _resolve_users(merchant: Merchant, rows: list[_Row], errors: dict[int, str]) -> None:
    by_username = {row.username: row for row in rows if row.username}
    found: dict[int, int] = {}  # row number → user id
    for pk, username in User.objects.filter(username__in=list(by_username)).values_list(
        "pk", "username"
    ):
        found[by_username[username].number] = pk
    phone_rows = [row for row in rows if not row.username]
    if phone_rows:
        phones = {row.phone: row for row in phone_rows}
        owners: dict[str, list[int]] = {}
        for pk, phone in User.objects.filter(phone__in=list(phones)).values_list("pk", "phone"):
            owners.setdefault(phone, []).append(pk)
        for pk, username in User.objects.filter(username__in=list(phones)).values_list(
            "pk", "username"
        ):
            owners.setdefault(username, [])
            if pk not in owners[username]:
                owners[username].append(pk)
        for phone, pks in owners.items():
            row = phones[phone]
            if len(pks) > 1:
                errors.setdefault(
                    row.number,
                    _("several accounts have the phone %(phone)s.") % {"phone": phone},
                )
            else:
                found[row.number] = pks[0]
    already = set(
        Distributor.objects.filter(merchant=merchant, user_id__in=found.values()).values_list(
            "user_id", flat=True
        )
    )
    for row in rows:
        row.user_id = found.get(row.number)
        if row.user_id in already:
            errors.setdefault(
                row.number,
                _("“%(key)s” is already a distributor of this store.") % {"key": row.key[:40]},
            )


# --- writing --------------------------------------------------------------------------------


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


def _create_users(rows: list[_Row]) -> None:
    new = [row for row in rows if row.user_id is None]
    users = [
        User(
            username=row.username or row.phone,
            phone=row.phone,
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


def _take_ids(rows: list[_Row]) -> None:
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk


def _invite_codes(merchant: Merchant, rows: list[_Row]) -> dict[int, str]:
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
    new_below: dict[int, list[_Row]] = {}
    for row in plan.rows:
        if row.parent_existing is not None:
            new_below.setdefault(row.parent_existing, []).append(row)
    for tree_id in sorted(set(plan.attach_trees.values())):
        existing = list(
            Distributor.objects.filter(tree_id=tree_id)
            .order_by("lft")
            .values_list("pk", "parent_id", "level")
        )
        children: dict[int | None, list[int | _Row]] = {}
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
            if isinstance(item, _Row):
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
                assert isinstance(item, _Row)
                labels[item.pk] = values
    return labels


def _number(
    top: "int | _Row",
    children: dict,
    tree_id: int,
    *,
    base_level: int,
) -> Iterable[tuple["int | _Row", dict[str, int]]]:
    """Gapped labels for ``top``'s subtree: nested-set numbers (pre-order, existing children before
    new ones) times one unit of a fresh root interval. ``children`` maps existing pks to their
    children (pks and new rows); new rows carry their own ``children``."""
    order: list[tuple[int | _Row, int]] = []  # pre-order with depth
    stack: list[tuple[int | _Row, int]] = [(top, base_level)]
    while stack:
        item, depth = stack.pop()
        order.append((item, depth))
        below = item.children if isinstance(item, _Row) else children.get(item, [])
        for child in reversed(below):
            stack.append((child, depth + 1))
    size = len(order)
    width = max(tree.TREE_ROOT_WIDTH, 4 * size * tree._min_unit())
    unit = width // (2 * size)
    numbers: list[tuple[int | _Row, dict[str, int]]] = []
    counter = 0
    open_items: list[tuple[int | _Row, int, int]] = []  # (item, depth, left number)
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


# --- jobs (admin uploads, run by a Celery worker) ---------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"distributors:import:{job_id}"


def import_job_create(
    *, merchant: Merchant, created_by: User, file_name: str, text: str
) -> ImportJob:
    """Record an uploaded file and run it in the background once committed."""
    from .tasks import distributors_import_job_task  # the task module imports this one

    job = ImportJob.objects.create(
        merchant=merchant, created_by=created_by, file_name=file_name[:255], content=text
    )
    transaction.on_commit(lambda: distributors_import_job_task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> str:
    """Run a waiting job (harmless twice: only a waiting job starts). Returns its status."""
    started = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING
    )
    job = ImportJob.objects.select_related("merchant").get(pk=job_id)
    if not started:
        return job.status

    def progress(stage: str, done: int, total: int) -> None:
        # the import is one transaction: progress goes through the cache, seen at once
        cache.set(_progress_key(job_id), {"stage": stage, "done": done, "total": total}, 3600)

    try:
        count = distributors_import(merchant=job.merchant, text=job.content, progress=progress)
    except ImportRefused as error:
        _job_failed(job_id, error.row, error.message)
        return ImportJob.Status.FAILED
    except BaseException:
        # the transaction is rolled back; the page must not wait for ever (time limit, crash)
        _job_failed(job_id, None, _("The import stopped unexpectedly; nothing was imported."))
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, total=count, processed=count, finished_at=timezone.now()
    )
    return ImportJob.Status.DONE


def _job_failed(job_id: int, row: int | None, reason: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED,
        error_row=row,
        error_reason=reason,
        finished_at=timezone.now(),
    )


def import_job_progress(*, job: ImportJob) -> dict:
    """What the progress page shows: status, stage, rows done of total, the error if any."""
    live = cache.get(_progress_key(job.pk)) or {}
    done, total = job.processed, job.total
    if job.status == ImportJob.Status.RUNNING and live:
        done, total = live["done"], live["total"]
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": str(job.get_status_display()),
        "stage": live.get("stage", ""),
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else (100 if job.status == "done" else 0),
        "error_row": job.error_row,
        "error": job.error_reason,
    }
