"""Checking a bulk import of distributors with their uplines from CSV (admin upload and management command).

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
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.accounts.models import USER_PHONE, User
from apps.core.errors import DomainError
from apps.core.personal import phone_index
from apps.merchants.models import Merchant

from ..models import Distributor
from ..services import INVITE_CODE_PATTERN

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
class ImportRow:
    number: int
    key: str
    username: str
    phone: str
    name: str
    upline: str
    invite_code: str
    parent_row: "ImportRow | None" = None
    parent_existing: int | None = None  # pk of an existing distributor
    user_id: int | None = None
    pk: int = 0
    children: list["ImportRow"] = field(default_factory=list)


@dataclass
class ImportPlan:
    merchant: Merchant
    rows: list[ImportRow]
    # existing distributor pk → tree_id, of every existing upline
    attach_trees: dict[int, int]


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


def _parse(text: str) -> list[ImportRow]:
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
    rows: list[ImportRow] = []
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
                ImportRow(
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


def _check_rows(rows: list[ImportRow], errors: dict[int, str]) -> None:
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


def _resolve_uplines(merchant: Merchant, rows: list[ImportRow], errors: dict[int, str]) -> None:
    by_key: dict[str, ImportRow] = {}
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


def _check_cycles(rows: list[ImportRow], errors: dict[int, str]) -> None:
    """Rows whose uplines inside the file go round in a circle (never reaching a root or an
    existing distributor)."""
    state: dict[int, int] = {}  # id(row) → 1 on the current path, 2 done
    for start in rows:
        path: list[ImportRow] = []
        row: ImportRow | None = start
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


def _resolve_users(merchant: Merchant, rows: list[ImportRow], errors: dict[int, str]) -> None:
    by_username = {row.username: row for row in rows if row.username}
    found: dict[int, int] = {}  # row number → user id
    for pk, username in User.objects.filter(username__in=list(by_username)).values_list(
        "pk", "username"
    ):
        found[by_username[username].number] = pk
    phone_rows = [row for row in rows if not row.username]
    if phone_rows:
        phones = {row.phone: row for row in phone_rows}
        by_index = {phone_index(phone, purpose=USER_PHONE): phone for phone in phones}
        owners: dict[str, list[int]] = {}
        for pk, index in User.objects.filter(phone_index__in=list(by_index)).values_list(
            "pk", "phone_index"
        ):
            owners.setdefault(by_index[index], []).append(pk)
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
