"""Share-link codes are remembered and bound only when a person navigates to a store page."""

import pytest

from apps.distributors.models import CustomerBinding


@pytest.fixture
def product_url(store_url, sku):
    return store_url("product", product_id=sku.product_id)


def test_an_anonymous_visit_remembers_the_code_in_a_cookie(
    client, merchant, distributor, product_url
):
    response = client.get(
        product_url, {"ref": distributor.invite_code}, HTTP_SEC_FETCH_DEST="document"
    )

    assert response.status_code == 200
    assert response.cookies[f"fx_ref_{merchant.slug}"].value == distributor.invite_code


def test_an_embedded_image_with_a_code_neither_remembers_nor_binds(
    client, merchant, customer, distributor, product_url, signed_in
):
    client.get(product_url, {"ref": distributor.invite_code}, HTTP_SEC_FETCH_DEST="image")

    assert f"fx_ref_{merchant.slug}" not in client.cookies
    assert not CustomerBinding.objects.filter(customer=customer).exists()


def test_a_signed_in_visit_binds_and_forgets_the_code(
    client, merchant, customer, distributor, product_url, signed_in
):
    response = client.get(
        product_url, {"ref": distributor.invite_code}, HTTP_SEC_FETCH_DEST="document"
    )

    binding = CustomerBinding.objects.get(customer=customer)
    assert (binding.merchant_id, binding.distributor_id) == (merchant.pk, distributor.pk)
    assert response.cookies[f"fx_ref_{merchant.slug}"].value == ""
