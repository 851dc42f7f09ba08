import pytest

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.merchants import services as merchant_services
from apps.merchants.models import Merchant, MerchantApplication, MerchantStaff
from apps.merchants.services import (
    merchant_application_submit,
    merchant_set_status,
    merchant_staff_add,
    merchant_staff_update,
)
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory


def apply(*, username: str, slug: str = "green-tea") -> MerchantApplication:
    return merchant_application_submit(
        username=username,
        password="apply-pass-123",
        store_name="Green Tea",
        slug=slug,
        contact_name="Wang Fang",
        contact_phone="13700000000",
        contact_email=f"{username}@example.com",
    )


def test_a_pending_application_reserves_its_store_address(db):
    apply(username="first")

    with pytest.raises(DomainError) as refused:
        apply(username="second")

    assert refused.value.code == "slug_taken"
    assert list(MerchantApplication.objects.values_list("applicant__username", flat=True)) == [
        "first"
    ]
    assert not User.objects.filter(username="second").exists()


def test_an_address_is_free_again_once_its_application_is_rejected(db):
    first = apply(username="first")
    MerchantApplication.objects.filter(pk=first.pk).update(
        status=MerchantApplication.Status.REJECTED
    )

    second = apply(username="second")

    assert second.slug == "green-tea"
    assert second.status == MerchantApplication.Status.PENDING


# --- staff ------------------------------------------------------------------------------------


def test_staff_add_lets_the_user_into_the_back_office(merchant):
    user = UserFactory(is_staff=False)

    membership = merchant_staff_add(merchant=merchant, user=user, role=MerchantStaff.Role.STAFF)

    assert MerchantStaff.objects.values_list("pk", "merchant_id", "user_id", "role").get() == (
        membership.pk,
        merchant.pk,
        user.pk,
        "staff",
    )
    assert User.objects.get(pk=user.pk).is_staff is True
    assert user.is_staff is True


def test_a_user_works_for_one_merchant_only(merchant, other_merchant):
    user = MerchantStaffFactory(merchant=other_merchant).user

    for target in (merchant, other_merchant):
        with pytest.raises(Conflict) as refused:
            merchant_staff_add(merchant=target, user=user, role=MerchantStaff.Role.OWNER)
        assert (refused.value.code, refused.value.status) == ("already_staff", 409)

    assert list(MerchantStaff.objects.values_list("merchant_id", "user_id", "role")) == [
        (other_merchant.pk, user.pk, "owner")
    ]


def test_staff_add_refuses_an_unknown_role(merchant):
    user = UserFactory(is_staff=False)

    with pytest.raises(DomainError) as refused:
        merchant_staff_add(merchant=merchant, user=user, role="boss")

    assert refused.value.code == "invalid_role"
    assert MerchantStaff.objects.count() == 0
    assert User.objects.get(pk=user.pk).is_staff is False


def test_staff_update_gives_a_new_user_back_office_access(merchant):
    membership = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF)
    newcomer = UserFactory(is_staff=False)

    merchant_staff_update(staff_id=membership.pk, user=newcomer, role=MerchantStaff.Role.OWNER)

    assert MerchantStaff.objects.values_list("pk", "user_id", "role").get() == (
        membership.pk,
        newcomer.pk,
        "owner",
    )
    assert User.objects.get(pk=newcomer.pk).is_staff is True


def test_staff_update_refuses_a_user_who_is_staff_elsewhere(merchant, other_merchant):
    membership = MerchantStaffFactory(merchant=merchant)
    elsewhere = MerchantStaffFactory(merchant=other_merchant).user

    with pytest.raises(Conflict) as refused:
        merchant_staff_update(staff_id=membership.pk, user=elsewhere)

    assert refused.value.code == "already_staff"
    assert MerchantStaff.objects.get(pk=membership.pk).user_id == membership.user_id


# --- merchant status --------------------------------------------------------------------------


def status_of(merchant):
    return Merchant.objects.values_list("status", flat=True).get(pk=merchant.pk)


def test_set_status_changes_it_once(merchant, other_merchant):
    assert merchant_set_status(merchant_id=merchant.pk, status="suspended") is True
    assert merchant_set_status(merchant_id=merchant.pk, status="suspended") is False
    assert (status_of(merchant), status_of(other_merchant)) == ("suspended", "active")
    assert merchant_set_status(merchant_id=merchant.pk, status="active") is True
    assert status_of(merchant) == "active"


def test_set_status_refuses_an_unknown_status_and_merchant(merchant):
    with pytest.raises(DomainError) as unknown_status:
        merchant_set_status(merchant_id=merchant.pk, status="closed")
    with pytest.raises(NotFound) as unknown_merchant:
        merchant_set_status(merchant_id=merchant.pk + 1000, status="suspended")

    assert (unknown_status.value.code, unknown_merchant.value.code) == (
        "invalid_status",
        "unknown_merchant",
    )
    assert status_of(merchant) == "active"


def test_set_status_loses_to_a_change_made_in_between(merchant, monkeypatch):
    real_compare_and_swap = merchant_services.compare_and_swap

    def someone_suspends_first(queryset, **kwargs):
        Merchant.objects.filter(pk=merchant.pk).update(status=Merchant.Status.SUSPENDED)
        return real_compare_and_swap(queryset, **kwargs)

    monkeypatch.setattr(merchant_services, "compare_and_swap", someone_suspends_first)
    pending = MerchantFactory(status=Merchant.Status.PENDING)
    Merchant.objects.filter(pk=merchant.pk).update(status=Merchant.Status.PENDING)

    with pytest.raises(Conflict) as refused:
        merchant_set_status(merchant_id=merchant.pk, status="active")

    assert (refused.value.code, refused.value.status) == ("status_changed", 409)
    assert (status_of(merchant), status_of(pending)) == ("suspended", "pending")


@pytest.mark.parametrize(
    ("username", "code"),
    [("bad name/..", "invalid_username"), ("First", "username_taken")],
)
def test_an_application_refuses_usernames_the_signup_page_refuses(db, username, code):
    apply(username="first")

    with pytest.raises(DomainError) as refused:
        apply(username=username, slug="other-store")

    assert refused.value.code == code
    assert MerchantApplication.objects.count() == 1
    assert User.objects.filter(username__iexact=username).count() == (
        1 if code == "username_taken" else 0
    )
