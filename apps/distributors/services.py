import re
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.commissions.models import Wallet
from apps.core.errors import DomainError, NotFound
from apps.merchants.models import Merchant

from .models import CustomerBinding, Distributor

INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 8
INVITE_CODE_PATTERN = re.compile(rf"^[{INVITE_CODE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}$")
# Serialises the creation of new trees: django-mptt picks a new root's tree_id as max + 1.
NEW_TREE_LOCK_KEY = 7_310_001


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


def _lock_tree_of(node: Distributor) -> Distributor:
    """Lock the root row of ``node``'s tree and return ``node`` re-read after the lock is held.

    django-mptt renumbers lft/rght of the whole tree on insert; with the root locked, writers to one
    tree queue up while other trees stay free. The re-read matters: another writer may have moved
    this node's numbers while we waited.
    """
    Distributor.objects.select_for_update().filter(tree_id=node.tree_id, parent=None).values_list(
        "pk", flat=True
    ).get()
    return Distributor.objects.get(pk=node.pk)


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
            if inviter is None:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [NEW_TREE_LOCK_KEY])
                parent = None
            else:
                parent = _lock_tree_of(inviter)
            distributor = Distributor(
                merchant=merchant, user=user, parent=parent, invite_code=_new_invite_code(merchant)
            )
            distributor.save()
            Wallet.objects.create(merchant=merchant, distributor=distributor)
    except IntegrityError:
        # The same user joined concurrently, or (very rarely) the invite code collided.
        existing = Distributor.objects.filter(merchant=merchant, user=user).first()
        if existing is not None:
            return existing
        return distributor_join(merchant=merchant, user=user, invite_code=invite_code)
    return distributor


def _new_invite_code(merchant: Merchant) -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def binding_bind(
    *,
    merchant: Merchant,
    customer: User,
    invite_code: str,
    source: str = CustomerBinding.Source.LINK,
) -> CustomerBinding | None:
    """Bind ``customer`` to the distributor owning ``invite_code`` (permanent binding).

    An existing binding is kept (permanent mode: the first link wins). Refused: a distributor referring
    themselves, and a customer who is a distributor being bound to someone in their own downline (a
    loop). Returns the binding in force, or None if there is none and none could be made.
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


def distributor_move(*, distributor: Distributor, new_parent: Distributor | None) -> Distributor:
    """Place ``distributor`` (with its whole team) under ``new_parent``, or make it a root.

    Holds the root rows of both trees (and, for a new root, the new-tree lock) while django-mptt
    renumbers, so concurrent joins and moves queue up instead of corrupting the trees. Orders
    already placed keep their upline snapshot; only future orders follow the new tree.
    """
    with transaction.atomic():
        if new_parent is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [NEW_TREE_LOCK_KEY])
        locked: set[int] = set()
        while True:
            node = Distributor.objects.get(pk=distributor.pk)
            target = Distributor.objects.get(pk=new_parent.pk) if new_parent is not None else None
            wanted = {node.tree_id} | ({target.tree_id} if target is not None else set())
            if wanted <= locked:
                break
            locked |= wanted
            list(
                Distributor.objects.select_for_update()
                .filter(tree_id__in=sorted(locked), parent=None)
                .order_by("tree_id")
                .values_list("pk", flat=True)
            )
        if target is not None and (
            target.merchant_id != node.merchant_id
            or (target.tree_id == node.tree_id and node.lft <= target.lft <= node.rght)
        ):
            raise DomainError(
                _("A distributor cannot be placed under itself or under someone in its own team."),
                code="distributor_loop",
            )
        Distributor.objects.move_node(node, target, "last-child")
    return node


def distributors_set_status(*, queryset, old: str, new: str) -> int:
    """Suspend or reactivate distributors (compare-and-swap per row on ``old``). A suspended
    distributor earns nothing from orders settled while suspended and keeps what it already earned.
    """
    return queryset.filter(status=old).update(status=new)
