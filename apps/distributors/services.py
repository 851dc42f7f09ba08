"""Distributors: joining, customer bindings and moves in the per-merchant trees.

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
from apps.commissions.models import Wallet
from apps.core.errors import DomainError, NotFound
from apps.merchants.models import Merchant

from .models import CustomerBinding, Distributor
from .tree import _lock_trees, tree_after_move, tree_insert

INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 8
INVITE_CODE_PATTERN = re.compile(rf"^[{INVITE_CODE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}$")


def invite_code_normalize(code: str) -> str:
    """Upper-cased code, or DomainError when it cannot be a code at all."""
    normalized = (code or "").strip().upper()
    if not INVITE_CODE_PATTERN.match(normalized):
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
        raise NotFound(
            _("No distributor has the invite code “%(code)s”.") % {"code": normalized},
            code="unknown_invite_code",
        )
    return distributor


def distributor_join(
    *, merchant: Merchant, user: User, invite_code: str | None = None
) -> Distributor:
    """Make ``user`` a distributor of ``merchant`` (recruitment mode: everyone).

    Placed under the owner of ``invite_code``; without a code, under the distributor the user is bound
    to as a customer, if any; otherwise as the root of a new tree. Joining again returns the existing
    profile unchanged. Nothing is ever charged for joining.
    """
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    existing = Distributor.objects.filter(merchant=merchant, user=user).first()
    if existing is not None:
        return existing
    inviter: Distributor | None = None
    if invite_code:
        inviter = distributor_get_by_code(merchant=merchant, code=invite_code)
    else:
        binding = (
            CustomerBinding.objects.filter(merchant=merchant, customer=user)
            .select_related("distributor")
            .first()
        )
        if binding is not None and binding.distributor.is_active:
            inviter = binding.distributor
    try:
        with transaction.atomic():
            distributor = tree_insert(
                merchant=merchant, user=user, parent=inviter, invite_code=_new_invite_code()
            )
            Wallet.objects.create(merchant=merchant, distributor=distributor)
    except IntegrityError:
        # The same user joined concurrently, or (very rarely) the invite code collided.
        existing = Distributor.objects.filter(merchant=merchant, user=user).first()
        if existing is not None:
            return existing
        return distributor_join(merchant=merchant, user=user, invite_code=invite_code)
    return distributor


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def binding_bind(
    *,
    merchant: Merchant,
    customer: User,
    invite_code: str,
    source: str = CustomerBinding.Source.LINK,
) -> CustomerBinding:
    """Bind ``customer`` to the distributor owning ``invite_code`` (permanent binding).

    An existing binding is kept (permanent mode: the first link wins). Refused: a distributor referring
    themselves, and a customer who is a distributor being bound to someone in their own downline (a
    loop). Returns the binding in force afterwards (the existing one, if there was one).
    """
    distributor = distributor_get_by_code(merchant=merchant, code=invite_code)
    if distributor.user_id == customer.pk:
        raise DomainError(_("You cannot refer yourself."), code="self_referral")
    own_profile = Distributor.objects.filter(merchant=merchant, user=customer).first()
    if own_profile is not None and (
        distributor.tree_id == own_profile.tree_id
        and own_profile.lft < distributor.lft
        and distributor.rght < own_profile.rght
    ):
        raise DomainError(
            _("You cannot be referred by someone in your own team."), code="referral_loop"
        )
    CustomerBinding.objects.bulk_create(
        [
            CustomerBinding(
                merchant=merchant, customer=customer, distributor=distributor, source=source
            )
        ],
        ignore_conflicts=True,
    )
    return CustomerBinding.objects.select_related("distributor").get(
        merchant=merchant, customer=customer
    )


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
        return Distributor.objects.filter(pk__in=pks, status=old).update(status=new)
