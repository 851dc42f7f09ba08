import pytest
from django.db import connection

from apps.core.errors import Conflict, DomainError, NotFound
from apps.distributors import tree as tree_module
from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.services import (
    distributor_join,
    distributor_move,
    distributor_move_check,
    invite_code_normalize,
)
from apps.ledger.models import Wallet
from apps.programme.binding import customer_bind
from tests.factories import UserFactory
from tests.support.tree import FRESH_ROOT, assert_trees_valid, shape


def tree(distributor):
    distributor.refresh_from_db()
    return (distributor.tree_id, distributor.lft, distributor.rght, distributor.level)


# --- binding ----------------------------------------------------------------------------------


def test_customer_binds_a_customer_to_the_code_owner(merchant, customer, chain):
    binding = customer_bind(
        merchant=merchant, customer=customer, invite_code=chain[2].invite_code.lower()
    )

    assert (binding.customer_id, binding.distributor_id, binding.source) == (
        customer.pk,
        chain[2].pk,
        "link",
    )
    assert CustomerBinding.objects.filter(customer=customer).count() == 1


def test_self_referral_is_refused(merchant, chain):
    with pytest.raises(DomainError) as caught:
        customer_bind(merchant=merchant, customer=chain[1].user, invite_code=chain[1].invite_code)

    assert caught.value.code == "self_referral"
    assert CustomerBinding.objects.count() == 0


def test_binding_a_distributor_to_their_own_downline_is_refused(merchant, chain):
    # chain[1] is the inviter of chain[2], who invited chain[3]
    for downline in (chain[2], chain[3]):
        with pytest.raises(DomainError) as caught:
            customer_bind(
                merchant=merchant, customer=chain[1].user, invite_code=downline.invite_code
            )
        assert caught.value.code == "referral_loop"

    assert CustomerBinding.objects.count() == 0


def test_a_distributor_may_be_bound_to_their_upline(merchant, chain):
    binding = customer_bind(
        merchant=merchant, customer=chain[2].user, invite_code=chain[0].invite_code
    )

    assert binding.distributor_id == chain[0].pk


def test_permanent_binding_keeps_the_first_distributor(merchant, customer, chain):
    first = customer_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)

    second = customer_bind(merchant=merchant, customer=customer, invite_code=chain[0].invite_code)

    assert first.distributor_id == chain[3].pk
    assert second.pk == first.pk
    assert second.distributor_id == chain[3].pk
    assert list(CustomerBinding.objects.values_list("customer_id", "distributor_id")) == [
        (customer.pk, chain[3].pk)
    ]


@pytest.mark.parametrize(
    "code", ["", "   ", "abc", "ABCDEFG1", "ABCDEFGHJ", "ABCD EFG", "<script>"]
)
def test_malformed_invite_code_is_refused(merchant, customer, code):
    with pytest.raises(DomainError) as caught:
        customer_bind(merchant=merchant, customer=customer, invite_code=code)

    assert caught.value.code == "invalid_invite_code"
    assert caught.value.status == 400
    assert CustomerBinding.objects.count() == 0


def test_unknown_or_foreign_invite_code_is_not_found(merchant, other_merchant, customer):
    foreign = distributor_join(merchant=other_merchant, user=UserFactory())

    for code in ("ABCDEFGH", foreign.invite_code):
        with pytest.raises(NotFound) as caught:
            customer_bind(merchant=merchant, customer=customer, invite_code=code)
        assert caught.value.code == "unknown_invite_code"

    assert CustomerBinding.objects.count() == 0


def test_suspended_distributors_code_is_not_found(merchant, customer, chain):
    Distributor.objects.filter(pk=chain[3].pk).update(status=Distributor.Status.SUSPENDED)

    with pytest.raises(NotFound):
        customer_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)


def test_invite_code_normalize_upper_cases_and_strips():
    assert invite_code_normalize("  abcdefgh ") == "ABCDEFGH"


# --- joining ----------------------------------------------------------------------------------


def test_join_without_code_or_binding_starts_a_new_tree(merchant):
    user = UserFactory()

    distributor = distributor_join(merchant=merchant, user=user)

    assert distributor.parent_id is None
    assert (distributor.lft, distributor.rght, distributor.level) == (*FRESH_ROOT, 0)
    assert invite_code_normalize(distributor.invite_code) == distributor.invite_code
    assert Wallet.objects.filter(distributor=distributor, merchant=merchant).count() == 1


def test_join_with_code_places_under_the_inviter(merchant, chain):
    user = UserFactory()

    joined = distributor_join(merchant=merchant, user=user, invite_code=chain[1].invite_code)

    assert joined.parent_id == chain[1].pk
    assert joined.level == 2
    assert joined.tree_id == chain[0].tree_id
    assert [d.pk for d in joined.get_ancestors(ascending=True)] == [chain[1].pk, chain[0].pk]
    # the new node takes its share of chain[1]'s free tail after chain[2]'s interval (a second
    # child: free // (2 + used // free), a third here); nothing else moves
    parent = Distributor.objects.get(pk=chain[1].pk)
    start = Distributor.objects.get(pk=chain[2].pk).rght + 1
    used, free = start - (parent.lft + 1), parent.rght - start
    assert (joined.lft, joined.rght) == (start, start + free // (2 + used // free))
    assert tree(chain[0])[1:] == (*FRESH_ROOT, 0)
    assert_trees_valid()


def test_join_without_code_goes_under_the_bound_distributor(merchant, customer, chain):
    customer_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)

    joined = distributor_join(merchant=merchant, user=customer)

    assert joined.parent_id == chain[3].pk
    assert joined.level == 4


def test_joining_again_returns_the_same_profile_unchanged(merchant, chain):
    user = UserFactory()
    first = distributor_join(merchant=merchant, user=user, invite_code=chain[0].invite_code)

    second = distributor_join(merchant=merchant, user=user, invite_code=chain[2].invite_code)

    assert second.pk == first.pk
    assert second.parent_id == chain[0].pk
    assert Distributor.objects.filter(merchant=merchant, user=user).count() == 1
    assert Wallet.objects.filter(distributor=first).count() == 1


def test_joining_again_with_a_malformed_or_unknown_code_returns_the_profile(merchant, chain):
    user = UserFactory()
    first = distributor_join(merchant=merchant, user=user, invite_code=chain[0].invite_code)

    assert distributor_join(merchant=merchant, user=user, invite_code="bad!").pk == first.pk
    assert distributor_join(merchant=merchant, user=user, invite_code="ZZZZZZZZ").pk == first.pk


def test_a_joins_audit_entry_names_the_distributors_columns_only(merchant, chain):
    from auditlog.models import LogEntry

    joined = distributor_join(
        merchant=merchant, user=UserFactory(), invite_code=chain[1].invite_code
    )

    (entry,) = LogEntry.objects.get_for_object(joined)
    # its own columns but the tree's bookkeeping; no reverse relation (a new one must be added to
    # _DISTRIBUTOR_REVERSE_RELATIONS in settings, or every join reads it to log a manager's name)
    columns = {field.name for field in Distributor._meta.concrete_fields}
    assert set(entry.changes_dict) <= columns - {"lft", "rght", "tree_id", "level"}
    assert {"id", "merchant", "user", "parent", "invite_code", "status"} <= set(entry.changes_dict)
    assert entry.changes_dict["parent"] == ["None", str(chain[1].pk)]


def test_joining_with_a_malformed_code_is_refused(merchant):
    user = UserFactory()

    with pytest.raises(DomainError) as caught:
        distributor_join(merchant=merchant, user=user, invite_code="bad!")

    assert caught.value.code == "invalid_invite_code"
    assert Distributor.objects.filter(user=user).count() == 0


def test_one_user_is_a_separate_distributor_in_each_store(merchant, other_merchant):
    user = UserFactory()

    here = distributor_join(merchant=merchant, user=user)
    there = distributor_join(merchant=other_merchant, user=user)

    assert here.pk != there.pk
    assert here.tree_id != there.tree_id
    assert (here.merchant_id, there.merchant_id) == (merchant.pk, other_merchant.pk)


# --- moving -----------------------------------------------------------------------------------


def numbers(*nodes):
    """(parent_id, tree_id, lft, rght, level) of each node, read from the database."""
    return [
        Distributor.objects.values_list("parent_id", "tree_id", "lft", "rght", "level").get(
            pk=node.pk
        )
        for node in nodes
    ]


def test_move_under_another_node_of_the_same_tree(merchant, chain):
    root, second, third, fourth = chain
    tree_id = root.tree_id

    moved = distributor_move(distributor=third, new_parent=root)

    # root ─ second, third ─ fourth
    assert (moved.parent_id, moved.level) == (root.pk, 1)
    assert shape(root, second, third, fourth) == [
        (None, tree_id, 0),
        (root.pk, tree_id, 1),
        (root.pk, tree_id, 1),
        (third.pk, tree_id, 2),
    ]
    assert_trees_valid()


def test_move_to_the_top_makes_a_new_tree(merchant, chain):
    root, second, third, fourth = chain
    other_root = distributor_join(merchant=merchant, user=UserFactory())

    moved = distributor_move(distributor=third, new_parent=None)

    new_tree_id = other_root.tree_id + 1
    assert (moved.parent_id, moved.tree_id, moved.level) == (None, new_tree_id, 0)
    assert shape(root, second, third, fourth) == [
        (None, root.tree_id, 0),
        (root.pk, root.tree_id, 1),
        (None, new_tree_id, 0),
        (third.pk, new_tree_id, 1),
    ]
    assert_trees_valid()


def test_moving_a_root_to_the_top_changes_nothing(merchant, chain):
    before = numbers(*chain)

    moved = distributor_move(distributor=chain[0], new_parent=None)

    assert moved.pk == chain[0].pk
    assert numbers(*chain) == before


def test_move_into_another_tree_takes_the_team_along(merchant, chain):
    root, second, third, fourth = chain
    other_root = distributor_join(merchant=merchant, user=UserFactory())
    other_child = distributor_join(
        merchant=merchant, user=UserFactory(), invite_code=other_root.invite_code
    )
    there = other_root.tree_id

    distributor_move(distributor=second, new_parent=other_child)

    # root alone; other_root ─ other_child ─ second ─ third ─ fourth
    assert shape(root, other_root, other_child, second, third, fourth) == [
        (None, root.tree_id, 0),
        (None, there, 0),
        (other_root.pk, there, 1),
        (other_child.pk, there, 2),
        (second.pk, there, 3),
        (third.pk, there, 4),
    ]
    assert Distributor.objects.filter(tree_id=root.tree_id).count() == 1
    assert_trees_valid()


def test_moving_a_root_into_another_tree_merges_the_trees(merchant, chain):
    root, second, third, fourth = chain
    other_root = distributor_join(merchant=merchant, user=UserFactory())
    there = other_root.tree_id

    distributor_move(distributor=other_root, new_parent=second)

    assert shape(root, second, third, fourth, other_root) == [
        (None, root.tree_id, 0),
        (root.pk, root.tree_id, 1),
        (second.pk, root.tree_id, 2),
        (third.pk, root.tree_id, 3),
        (second.pk, root.tree_id, 2),
    ]
    # mptt made room for a 2**60-wide subtree, pushing the root past the threshold: relabelled
    assert tree(root)[1:] == (*FRESH_ROOT, 0)
    assert_trees_valid()
    assert Distributor.objects.filter(tree_id=there).count() == 0


@pytest.mark.parametrize("target_index", [1, 2, 3])
def test_move_under_itself_or_its_own_team_is_refused(merchant, chain, target_index):
    before = numbers(*chain)

    with pytest.raises(DomainError) as caught:
        distributor_move(distributor=chain[1], new_parent=chain[target_index])

    assert caught.value.code == "distributor_loop"
    assert caught.value.status == 400
    assert caught.value.message == (
        "A distributor cannot be placed under itself or under someone in its own team."
    )
    assert numbers(*chain) == before


def test_moving_a_root_under_its_own_team_is_refused(merchant, chain):
    before = numbers(*chain)

    with pytest.raises(DomainError) as caught:
        distributor_move(distributor=chain[0], new_parent=chain[3])

    assert caught.value.code == "distributor_loop"
    assert numbers(*chain) == before


def test_move_under_another_merchants_distributor_is_refused_as_absent(
    merchant, other_merchant, chain
):
    foreign = distributor_join(merchant=other_merchant, user=UserFactory())
    before = numbers(*chain, foreign)

    with pytest.raises(NotFound) as caught:
        distributor_move(distributor=chain[2], new_parent=foreign)

    assert (caught.value.code, caught.value.status) == ("unknown_distributor", 404)
    assert numbers(*chain, foreign) == before


def test_move_check_uses_the_tree_as_stored_not_the_objects_given(merchant, chain):
    root, second, third, _fourth = chain
    stale_third = Distributor.objects.get(pk=third.pk)
    distributor_move(distributor=third, new_parent=root)

    # second was third's parent; after the move, second is no longer in third's team
    distributor_move_check(distributor=second, new_parent=stale_third)
    with pytest.raises(DomainError) as caught:
        distributor_move_check(distributor=root, new_parent=stale_third)

    assert caught.value.code == "distributor_loop"


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks"
            " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # the fixtures' joins commit and release their locks
def test_move_gives_up_with_a_conflict_when_the_trees_keep_changing(merchant, chain, monkeypatch):
    # every attempt takes the locks and then finds a node in another tree (a concurrent move):
    # _lock_trees releases that attempt's locks, tries again, and after the last attempt refuses
    # instead of writing without the right lock
    real_lock_trees_once = tree_module._lock_trees_once
    held_before_each_attempt: list[int] = []

    def tree_always_changed(pks, *, new_tree):
        held_before_each_attempt.append(advisory_locks_held())
        real_lock_trees_once(pks, new_tree=new_tree)
        assert advisory_locks_held() == 1  # the one tree of both nodes
        raise tree_module._TreeChanged

    monkeypatch.setattr(tree_module, "_lock_trees_once", tree_always_changed)
    before = numbers(*chain)

    with pytest.raises(Conflict) as caught:
        distributor_move(distributor=chain[2], new_parent=chain[0])

    assert (caught.value.code, caught.value.status) == ("tree_busy", 409)
    assert tree_module.TREE_LOCK_ATTEMPTS == 5
    assert held_before_each_attempt == [0] * tree_module.TREE_LOCK_ATTEMPTS
    assert advisory_locks_held() == 0
    assert numbers(*chain) == before


def test_a_distributor_may_be_moved_under_a_customer_bound_to_it(merchant, chain):
    # bindings are not a tree concern: order placement cuts the upline at the buyer
    fourth = chain[3]
    buyer = distributor_join(merchant=merchant, user=UserFactory())
    customer_bind(merchant=merchant, customer=buyer.user, invite_code=fourth.invite_code)

    distributor_move(distributor=fourth, new_parent=buyer)

    assert shape(buyer, fourth) == [(None, buyer.tree_id, 0), (buyer.pk, buyer.tree_id, 1)]
    assert_trees_valid()
    assert CustomerBinding.objects.get(customer=buyer.user).distributor_id == fourth.pk


# --- events -----------------------------------------------------------------------------------


def test_a_join_publishes_distributor_joined_once(merchant, chain):
    from apps.core import events
    from apps.distributors.events import DistributorJoined

    user = UserFactory()
    with events.captured() as published:
        joined = distributor_join(merchant=merchant, user=user, invite_code=chain[3].invite_code)
        again = distributor_join(merchant=merchant, user=user)

    assert again.pk == joined.pk
    assert published == [
        DistributorJoined(merchant_id=merchant.pk, distributor_id=joined.pk, parent_id=chain[3].pk)
    ]
