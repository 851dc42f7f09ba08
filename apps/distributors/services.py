"""Distributors: invite codes, joining, and moves in the per-merchant trees (bindings: ``binding``).

The tree (a gapped nested set over django-mptt) and its locking protocol live in ``tree.py``: joins
place the new node with ``tree_insert``; moves and status changes take the exclusive tree locks with
``_lock_trees`` (new-tree lock first, trees ascending, rows by pk ascending). The row locks matter
because mptt's ``move_node`` ends with a save of every column of the moved node: without them a
status change committed between the read and that save would be undone.
"""

import re
import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.audit import audit_changes
from apps.core.errors import DomainError, NotFound
from apps.ledger.wallets import wallet_open
from apps.merchants.models import Merchant

from .events import DistributorJoined
from .models import (
    Distributor,
    ProgrammeSettings,
)
from .selectors import binding_for_customer, distributor_join_context, programme_settings_for
from .tree import _lock_trees, tree_after_move, tree_insert

INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 8
INVITE_CODE_PATTERN = re.compile(rf"^[{INVITE_CODE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}$")


def _invite_code_or_none(code: str | None) -> str | None:
    normalized = (code or "").strip().upper()
    return normalized if INVITE_CODE_PATTERN.match(normalized) else None


def invite_code_normalize(code: str) -> str:
    """Upper-cased code, or DomainError when it cannot be a code at all."""
    normalized = _invite_code_or_none(code)
    if normalized is None:
        raise DomainError(
            _("“%(code)s” is not a valid invite code.") % {"code": code[:32]},
            code="invalid_invite_code",
        )
    return normalized


def distributor_get_by_code(*, merchant: Merchant, code: str) -> Distributor:
    normalized = invite_code_normalize(code)
    distributor = (
        Distributor.objects.filter(
            merchant=merchant, invite_code=normalized, status=Distributor.Status.ACTIVE
        )
        .select_related("user")
        .first()
    )
    if distributor is None:
        raise _unknown_invite_code(normalized)
    return distributor


def _unknown_invite_code(normalized: str) -> NotFound:
    return NotFound(
        _("No distributor has the invite code “%(code)s”.") % {"code": normalized},
        code="unknown_invite_code",
    )


def recruitment_refuse_unless_open(*, merchant: Merchant, mode: str | None = None) -> None:
    """The storefront join is open in recruitment mode everyone only; say what to do otherwise.
    ``mode``: the merchant's recruitment mode when the caller has read it already."""
    Mode = ProgrammeSettings.RecruitmentMode
    if mode is None:
        mode = programme_settings_for(merchant=merchant).recruitment_mode
    if mode == Mode.EVERYONE:
        return
    messages = {
        Mode.APPLICATION: _(
            "This store recruits distributors by application: please apply and wait for review."
        ),
        Mode.APPOINTED: _("This store's distributors are appointed by the store only."),
        Mode.THRESHOLD: _(
            "In this store you become a distributor automatically once your purchases reach "
            "the spending threshold."
        ),
    }
    raise DomainError(messages[Mode(mode)], code=f"recruitment_{mode}")


def distributor_join(
    *,
    merchant: Merchant,
    user: User,
    invite_code: str | None = None,
    qualification: str = Distributor.Qualification.EVERYONE,
    qualifying_order_id: int | None = None,
) -> Distributor:
    """Make ``user`` a distributor of ``merchant``; see ``distributor_join_or_get``."""
    distributor, _created = distributor_join_or_get(
        merchant=merchant,
        user=user,
        invite_code=invite_code,
        qualification=qualification,
        qualifying_order_id=qualifying_order_id,
    )
    return distributor


def distributor_join_or_get(
    *,
    merchant: Merchant,
    user: User,
    invite_code: str | None = None,
    qualification: str = Distributor.Qualification.EVERYONE,
    qualifying_order_id: int | None = None,
) -> tuple[Distributor, bool]:
    """Make ``user`` a distributor of ``merchant``: (the profile, whether this call created it).

    Placed under the owner of ``invite_code``; without a code, under the distributor the user is bound
    to as a customer, if any; otherwise as the root of a new tree. Joining again returns the existing
    profile unchanged. Nothing is ever charged for joining.

    ``qualification`` says which path admits the user: the storefront's own join (``everyone``) is
    refused unless the merchant's recruitment mode is everyone; the other paths (an approved
    application, an appointment, the spending threshold) check their mode themselves.
    ``qualifying_order_id`` is the paid order that reached the spending threshold.

    A new distributor publishes ``DistributorJoined`` (its inviter has a new direct recruit).
    """
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    context = distributor_join_context(
        merchant=merchant, user=user, invite_code=_invite_code_or_none(invite_code)
    )
    if context.existing_id is not None:
        return Distributor.objects.get(pk=context.existing_id), False
    if qualification == Distributor.Qualification.EVERYONE:
        recruitment_refuse_unless_open(merchant=merchant, mode=context.recruitment_mode)
    inviter_id: int | None = None
    if invite_code:
        if context.inviter_id is None:
            # not a code at all (DomainError), or nobody active has it
            raise _unknown_invite_code(invite_code_normalize(invite_code))
        inviter_id = context.inviter_id
    else:
        binding = binding_for_customer(merchant=merchant, customer=user)
        if binding is not None and binding.distributor.is_active:
            inviter_id = binding.distributor_id
    try:
        with transaction.atomic():
            distributor = tree_insert(
                merchant=merchant,
                user=user,
                parent_id=inviter_id,
                invite_code=_new_invite_code(),
                qualification=qualification,
                qualifying_order_id=qualifying_order_id,
            )
            wallet_open(merchant_id=merchant.pk, distributor_id=distributor.pk)
    except IntegrityError:
        # The same user joined concurrently, or (very rarely) the invite code collided.
        existing = Distributor.objects.filter(merchant=merchant, user=user).first()
        if existing is not None:
            return existing, False
        return distributor_join_or_get(
            merchant=merchant,
            user=user,
            invite_code=invite_code,
            qualification=qualification,
            qualifying_order_id=qualifying_order_id,
        )
    events.publish(
        DistributorJoined(
            merchant_id=merchant.pk,
            distributor_id=distributor.pk,
            parent_id=distributor.parent_id,
        )
    )
    return distributor, True


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def distributor_move_check(*, distributor: Distributor, new_parent: Distributor | None) -> None:
    """Raise the DomainError ``distributor_move`` would raise given the tree as it is now (no locks;
    for forms: the move itself checks again under the locks)."""
    node = Distributor.objects.get(pk=distributor.pk)
    target = Distributor.objects.get(pk=new_parent.pk) if new_parent is not None else None
    _move_refuse_if_invalid(node, target)


def _move_refuse_if_invalid(node: Distributor, target: Distributor | None) -> None:
    """Refuse a parent from another store (as absent) and a parent inside the node's own team.

    Customer bindings are not looked at: a distributor may be moved under someone bound to it as a
    customer; order placement cuts the upline at the buyer, so nobody is ever their own upline.
    """
    if target is None:
        return
    if target.merchant_id != node.merchant_id:
        raise NotFound(_("No such distributor in this store."), code="unknown_distributor")
    if target.tree_id == node.tree_id and node.lft <= target.lft <= node.rght:
        raise DomainError(
            _("A distributor cannot be placed under itself or under someone in its own team."),
            code="distributor_loop",
        )


def distributor_move(*, distributor: Distributor, new_parent: Distributor | None) -> Distributor:
    """Place ``distributor`` (with its whole team) under ``new_parent``, or make it a root.

    Holds the exclusive locks of the trees involved (and, for a new root, the new-tree lock) while
    django-mptt shifts the intervals by the subtree's width (a tree pushed far right is
    relabelled), so concurrent joins and moves queue up instead of corrupting the trees. Orders
    already placed keep their upline snapshot; only future orders follow the new tree.
    """
    with transaction.atomic():
        pks = (distributor.pk,) if new_parent is None else (distributor.pk, new_parent.pk)
        nodes = _lock_trees(*pks, new_tree=new_parent is None)
        node = nodes[distributor.pk]
        target = nodes[new_parent.pk] if new_parent is not None else None
        _move_refuse_if_invalid(node, target)
        if target is None and node.parent_id is None:
            return node
        Distributor.objects.move_node(node, target, "last-child")
        tree_after_move(tree_id=node.tree_id)
        node.refresh_from_db(fields=["lft", "rght", "tree_id", "level"])
    return node


def distributors_set_status(*, queryset, old: str, new: str) -> int:
    """Suspend or reactivate distributors (compare-and-swap per row on ``old``). A suspended
    distributor earns nothing from orders settled while suspended and keeps what it already earned.

    Takes the trees' locks and the rows' locks in the module's order (so it neither deadlocks with
    a move nor is undone by one), then writes the rows still in ``old``.
    """
    with transaction.atomic():
        pks = sorted(set(queryset.filter(status=old).order_by().values_list("pk", flat=True)))
        if not pks:
            return 0
        _lock_trees(*pks)
        changed = Distributor.objects.filter(pk__in=pks, status=old).update(status=new)
        audit_changes(Distributor.objects.filter(pk__in=pks), {"status": (old, new)})
        return changed
