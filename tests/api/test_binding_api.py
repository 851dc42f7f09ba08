"""The binding endpoint: a customer who arrives through the API is bound as one who arrives on a
page is, through the same service (apps.programme.binding.customer_bind) and the same rules."""

from datetime import timedelta

from django.utils import timezone

from apps.distributors.models import BindingChange, CustomerBinding, FraudFlag
from apps.distributors.recruitment import programme_settings_update
from tests.factories import UserFactory
from tests.services.flows import paid_order

from .conftest import api_url, client_for


def bind(user, merchant, code, **extra):
    return client_for(user).post(
        api_url("store-binding-list", store=merchant.slug),
        {"invite_code": code},
        format="json",
        **extra,
    )


def test_a_customer_is_bound_through_the_api_and_reads_the_binding(merchant, customer, chain):
    response = bind(customer, merchant, chain[3].invite_code.lower())

    assert response.status_code == 200, response.content
    assert response.json()["distributor"]["id"] == chain[3].pk
    assert response.json()["source"] == "link"
    binding = CustomerBinding.objects.get(merchant=merchant, customer=customer)
    assert binding.distributor_id == chain[3].pk
    assert list(
        BindingChange.objects.filter(customer=customer).values_list("reason", flat=True)
    ) == ["bound"]
    shown = client_for(customer).get(api_url("store-binding-list", store=merchant.slug))
    assert shown.status_code == 200
    assert shown.json()["distributor"]["invite_code"] == chain[3].invite_code


def test_a_permanent_binding_keeps_the_first_link(merchant, customer, chain):
    bind(customer, merchant, chain[3].invite_code)

    response = bind(customer, merchant, chain[1].invite_code)

    assert response.status_code == 200
    assert response.json()["distributor"]["id"] == chain[3].pk
    assert BindingChange.objects.filter(customer=customer).count() == 1


def test_an_expired_binding_reads_as_none_and_a_new_link_rebinds(merchant, customer, chain):
    programme_settings_update(merchant=merchant, binding_mode="days", binding_days=7)
    bind(customer, merchant, chain[3].invite_code)
    CustomerBinding.objects.filter(customer=customer).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    shown = client_for(customer).get(api_url("store-binding-list", store=merchant.slug))
    assert (shown.status_code, shown.json()["code"]) == (404, "not_bound")
    rebound = bind(customer, merchant, chain[1].invite_code)
    assert rebound.json()["distributor"]["id"] == chain[1].pk
    assert BindingChange.objects.filter(customer=customer).first().reason == "expired_rebound"


def test_refusals_are_4xx_with_a_code_and_bind_nothing(merchant, customer, chain, sku):
    own = bind(chain[2].user, merchant, chain[2].invite_code)
    assert (own.status_code, own.json()["code"]) == (400, "self_referral")
    loop = bind(chain[1].user, merchant, chain[3].invite_code)
    assert (loop.status_code, loop.json()["code"]) == (400, "referral_loop")
    unknown = bind(customer, merchant, "ABCDEFGH")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_invite_code")
    malformed = bind(customer, merchant, "no!")
    assert (malformed.status_code, malformed.json()["code"]) == (400, "invalid_invite_code")
    missing = client_for(customer).post(
        api_url("store-binding-list", store=merchant.slug), {}, format="json"
    )
    assert missing.status_code == 400

    programme_settings_update(merchant=merchant, binding_new_customers_only=True)
    paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    returning = bind(customer, merchant, chain[3].invite_code)
    assert (returning.status_code, returning.json()["code"]) == (400, "not_a_new_customer")
    assert not CustomerBinding.objects.filter(merchant=merchant).exists()


def test_binding_needs_a_signed_in_customer(merchant, chain):
    response = bind(None, merchant, chain[3].invite_code)

    assert response.status_code in (401, 403)
    assert not CustomerBinding.objects.exists()


def test_a_binding_from_the_distributors_own_ip_is_flagged(merchant, chain):
    FraudFlag.objects.all().delete()
    chain[3].__class__.objects.filter(pk=chain[3].pk).update(signup_ip="203.0.113.9")
    alter_ego = UserFactory()

    response = bind(alter_ego, merchant, chain[3].invite_code, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    flag = FraudFlag.objects.get(distributor=chain[3])
    assert (flag.kind, flag.detail) == ("ip", {"bound_customers": [alter_ego.pk]})
