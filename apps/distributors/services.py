"""Distributors: joining, customer bindings and moves in the per-merchant trees.

The tree (a gapped nested set over django-mptt) and its locking protocol live in ``tree.py``: joins
place the new node with ``tree_insert``; moves and status changes take the exclusive tree locks with
``_lock_trees`` (new-tree lock first, trees ascending, rows by pk ascending). The row locks matter
because mptt's ``move_node`` ends with a save of every column of the moved node: without them a
status change committed between the read and that save would be undone.
"""

import re
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import DomainError, NotFound
from apps.ledger.wallets import wallet_open
from apps.merchants.models import Merchant

from .models import (
    BindingChange,
    CustomerBinding,
    Distributor,
    ProgrammeSettings,
    binding_in_force,
)
from .selectors import programme_settings_for
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
    *,
    merchant: Merchant,
    user: User,
    invite_code: str | None = None,
    qualification: str = Distributor.Qualification.EVERYONE,
) -> Distributor:
    """Make ``user`` a distributor of ``merchant``.

    Placed under the owner of ``invite_code``; without a code, under the distributor the user is bound
    to as a customer, if any; otherwise as the root of a new tree. Joining again returns the existing
    profile unchanged. Nothing is ever charged for joining.

    ``qualification`` says which path admits the user: the storefront's own join (``everyone``) is
    refused unless the merchant's recruitment mode is everyone; the other paths (an approved
    application, an appointment, the spending threshold) are in ``recruitment`` and check their mode
    themselves.
    """
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    existing = Distributor.objects.filter(merchant=merchant, user=user).first()
    if existing is not None:
        return existing
    if qualification == Distributor.Qualification.EVERYONE:
        from .recruitment import recruitment_refuse_unless_open

        recruitment_refuse_unless_open(merchant=merchant)
    inviter: Distributor | None = None
    if invite_code:
        inviter = distributor_get_by_code(merchant=merchant, code=invite_code)
    else:
        binding = (
            CustomerBinding.objects.filter(merchant=merchant, customer=user)
            .filter(binding_in_force(timezone.now()))
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
            wallet_open(merchant_id=merchant.pk, distributor_id=distributor.pk)
    except IntegrityError:
        # The same user joined concurrently, or (very rarely) the invite code collided.
        existing = Distributor.objects.filter(merchant=merchant, user=user).first()
        if existing is not None:
            return existing
        return distributor_join(
            merchant=merchant, user=user, invite_code=invite_code, qualification=qualification
        )
    if distributor.parent_id is not None:
        from .tasks import tier_evaluate_on_commit

        tier_evaluate_on_commit(merchant.pk, distributor.parent_id)  # a new direct recruit
    return distributor


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def binding_bind(
    *,
    merchant: Merchant,
    customer: User,
    invite_code: str,
    source: str = CustomerBinding.Source.LINK,
    now: datetime | None = None,
) -> CustomerBinding:
    """Bind ``customer`` to the distributor owning ``invite_code``, per the merchant's binding mode.

    - permanent: the first link wins, for ever;
    - days: the binding counts for ``binding_days`` from the instant it is made; a link arriving
      once it has expired binds anew (to whoever's link it is);
    - latest: every new link rebinds to its distributor.
    With ``binding_new_customers_only``, a customer who has ever paid an order in this store is not
    bound (nor rebound). Refused: a distributor referring themselves, and a customer who is a
    distributor being bound to someone in their own downline (a loop). Every bind and rebind is kept
    in ``BindingChange``. Returns the binding in force afterwards.
    """
    now = now or timezone.now()
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
    settings = programme_settings_for(merchant=merchant)
    Mode = ProgrammeSettings.BindingMode
    expires_at = (
        now + timedelta(days=settings.binding_days) if settings.binding_mode == Mode.DAYS else None
    )
    with transaction.atomic():
        binding = _binding_locked(merchant=merchant, customer=customer)
        if binding is not None:
            in_force = binding.expires_at is None or binding.expires_at > now
            if binding.distributor_id == distributor.pk and in_force:
                return binding
            if in_force and settings.binding_mode != Mode.LATEST:
                return binding  # permanent, or days not yet over: the first link keeps it
        if settings.binding_new_customers_only and _has_paid_an_order(
            merchant=merchant, customer=customer
        ):
            raise DomainError(
                _("Only new customers can be bound to a distributor in this store."),
                code="not_a_new_customer",
            )
        if binding is None:
            binding = _binding_create(
                merchant=merchant,
                customer=customer,
                distributor=distributor,
                source=source,
                now=now,
                expires_at=expires_at,
            )
            if binding.distributor_id != distributor.pk:
                return binding  # a concurrent first link won
            previous_id, reason = None, BindingChange.Reason.BOUND
        else:
            previous_id = binding.distributor_id
            reason = (
                BindingChange.Reason.EXPIRED_REBOUND
                if binding.expires_at is not None and binding.expires_at <= now
                else BindingChange.Reason.LATEST_LINK
            )
            binding.distributor = distributor
            binding.source, binding.bound_at, binding.expires_at = source, now, expires_at
            binding.save(update_fields=["distributor", "source", "bound_at", "expires_at"])
        BindingChange.objects.create(
            merchant=merchant,
            customer=customer,
            from_distributor_id=previous_id,
            to_distributor=distributor,
            reason=reason,
            created_at=now,
        )
    return binding


def _binding_locked(*, merchant: Merchant, customer: User) -> CustomerBinding | None:
    return (
        CustomerBinding.objects.select_for_update()
        .filter(merchant=merchant, customer=customer)
        .first()
    )


def _binding_create(
    *,
    merchant: Merchant,
    customer: User,
    distributor: Distributor,
    source: str,
    now: datetime,
    expires_at: datetime | None,
) -> CustomerBinding:
    """Create the customer's binding; if a concurrent link created it first, return that one."""
    try:
        with transaction.atomic():
            return CustomerBinding.objects.create(
                merchant=merchant,
                customer=customer,
                distributor=distributor,
                source=source,
                bound_at=now,
                expires_at=expires_at,
            )
    except IntegrityError:
        found = _binding_locked(merchant=merchant, customer=customer)
        assert found is not None
        return found


def _has_paid_an_order(*, merchant: Merchant, customer: User) -> bool:
    from apps.orders.models import Order

    return Order.objects.filter(
        merchant=merchant, customer=customer, paid_at__isnull=False
    ).exists()


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
