import pytest

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.merchants.models import MerchantApplication
from apps.merchants.services import merchant_application_submit


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
