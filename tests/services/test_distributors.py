import pytest

from apps.commissions.models import Wallet
from apps.core.errors import DomainError, NotFound
from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.services import binding_bind, distributor_join, invite_code_normalize
from tests.factories import UserFactory


def tree(distributor):
    distributor.refresh_from_db()
    return (distributor.tree_id, distributor.lft, distributor.rght, distributor.level)


# --- binding ----------------------------------------------------------------------------------


def test_binding_binds_a_customer_to_the_code_owner(merchant, customer, chain):
    binding = binding_bind(
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
        binding_bind(merchant=merchant, customer=chain[1].user, invite_code=chain[1].invite_code)

    assert caught.value.code == "self_referral"
    assert CustomerBinding.objects.count() == 0


def test_binding_a_distributor_to_their_own_downline_is_refused(merchant, chain):
    # chain[1] is the inviter of chain[2], who invited chain[3]
    for downline in (chain[2], chain[3]):
        with pytest.raises(DomainError) as caught:
            binding_bind(
                merchant=merchant, customer=chain[1].user, invite_code=downline.invite_code
            )
        assert caught.value.code == "referral_loop"

    assert CustomerBinding.objects.count() == 0


def test_a_distributor_may_be_bound_to_their_upline(merchant, chain):
    binding = binding_bind(
        merchant=merchant, customer=chain[2].user, invite_code=chain[0].invite_code
    )

    assert binding.distributor_id == chain[0].pk


def test_permanent_binding_keeps_the_first_distributor(merchant, customer, chain):
    first = binding_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)

    second = binding_bind(merchant=merchant, customer=customer, invite_code=chain[0].invite_code)

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
        binding_bind(merchant=merchant, customer=customer, invite_code=code)

    assert caught.value.code == "invalid_invite_code"
    assert caught.value.status == 400
    assert CustomerBinding.objects.count() == 0


def test_unknown_or_foreign_invite_code_is_not_found(merchant, other_merchant, customer):
    foreign = distributor_join(merchant=other_merchant, user=UserFactory())

    for code in ("ABCDEFGH", foreign.invite_code):
        with pytest.raises(NotFound) as caught:
            binding_bind(merchant=merchant, customer=customer, invite_code=code)
        assert caught.value.code == "unknown_invite_code"

    assert CustomerBinding.objects.count() == 0


def test_suspended_distributors_code_is_not_found(merchant, customer, chain):
    Distributor.objects.filter(pk=chain[3].pk).update(status=Distributor.Status.SUSPENDED)

    with pytest.raises(NotFound):
        binding_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)


def test_invite_code_normalize_upper_cases_and_strips():
    assert invite_code_normalize("  abcdefgh ") == "ABCDEFGH"


# --- joining ----------------------------------------------------------------------------------


def test_join_without_code_or_binding_starts_a_new_tree(merchant):
    user = UserFactory()

    distributor = distributor_join(merchant=merchant, user=user)

    assert distributor.parent_id is None
    assert (distributor.lft, distributor.rght, distributor.level) == (1, 2, 0)
    assert invite_code_normalize(distributor.invite_code) == distributor.invite_code
    assert Wallet.objects.filter(distributor=distributor, merchant=merchant).count() == 1


def test_join_with_code_places_under_the_inviter(merchant, chain):
    user = UserFactory()

    joined = distributor_join(merchant=merchant, user=user, invite_code=chain[1].invite_code)

    assert joined.parent_id == chain[1].pk
    assert joined.level == 2
    assert joined.tree_id == chain[0].tree_id
    assert [d.pk for d in joined.get_ancestors(ascending=True)] == [chain[1].pk, chain[0].pk]
    # the tree's numbering is consistent: the root spans all five nodes
    assert tree(chain[0])[1:] == (1, 10, 0)


def test_join_without_code_goes_under_the_bound_distributor(merchant, customer, chain):
    binding_bind(merchant=merchant, customer=customer, invite_code=chain[3].invite_code)

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
