"""Claiming through a distributor's coupon link (``stores/<store>/coupon-links/``): the consumer is
bound by the binding rules, then the coupon is claimed. A bind the rules refuse leaves them
unbound and the claim stands (DESIGN: refused self-referral and loops refuse the bind, not the
visit), and the answer says so in ``binding``."""

from apps.distributors.models import CustomerBinding
from apps.distributors.recruitment import programme_settings_update
from apps.marketing.models import CouponGrant
from tests.factories import UserFactory
from tests.marketing import factories as f
from tests.services.flows import paid_order

from .conftest import api_url, client_for


def claim(user, merchant, coupon, code):
    return client_for(user).post(
        api_url("store-coupon-link-list", store=merchant.slug),
        {"coupon": coupon.pk, "invite_code": code},
        format="json",
    )


def shared(merchant, **fields):
    return f.coupon(merchant, claimable=False, distributor_shareable=True, **fields)


def test_a_newcomer_is_bound_to_the_links_distributor_and_claims(merchant, customer, chain):
    coupon = shared(merchant)

    response = claim(customer, merchant, coupon, chain[3].invite_code)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["binding"] == {
        "outcome": "bound",
        "code": "",
        "detail": "",
        "distributor": {
            "id": chain[3].pk,
            "display_name": chain[3].user.display_name,
            "invite_code": chain[3].invite_code,
        },
    }
    grant = CouponGrant.objects.get(pk=body["id"])
    assert (grant.customer_id, grant.distributor_id, grant.source) == (
        customer.pk,
        chain[3].pk,
        "distributor",
    )
    assert CustomerBinding.objects.get(customer=customer).distributor_id == chain[3].pk


def test_a_refused_bind_leaves_the_claimer_unbound_and_says_why(merchant, chain, sku):
    coupon = shared(merchant, per_person_limit=2)
    returning = UserFactory()
    paid_order(merchant=merchant, customer=returning, lines=[(sku, 1)])
    programme_settings_update(merchant=merchant, binding_new_customers_only=True)
    cases = [
        # the distributor through their own link, an upline member through their downline's
        # link, a customer who has paid before in a store binding new customers only
        (chain[2].user, chain[2].invite_code, "self_referral", "You cannot refer yourself."),
        (
            chain[1].user,
            chain[3].invite_code,
            "referral_loop",
            "You cannot be referred by someone in your own team.",
        ),
        (
            returning,
            chain[3].invite_code,
            "not_a_new_customer",
            "Only new customers can be bound to a distributor in this store.",
        ),
    ]
    for user, code, refusal, detail in cases:
        response = claim(user, merchant, coupon, code)

        assert response.status_code == 201, response.content
        assert response.json()["binding"] == {
            "outcome": "refused",
            "code": refusal,
            "detail": detail,
            "distributor": None,
        }
        assert CouponGrant.objects.filter(pk=response.json()["id"], customer=user).exists()
        assert not CustomerBinding.objects.filter(merchant=merchant, customer=user).exists()


def test_an_earlier_binding_in_force_is_kept_and_named(merchant, customer, chain):
    coupon = shared(merchant)
    claim(customer, merchant, shared(merchant, name="first"), chain[3].invite_code)

    response = claim(customer, merchant, coupon, chain[1].invite_code)

    assert response.status_code == 201, response.content
    binding = response.json()["binding"]
    assert (binding["outcome"], binding["code"], binding["distributor"]["id"]) == (
        "kept",
        "",
        chain[3].pk,
    )
    assert CustomerBinding.objects.get(customer=customer).distributor_id == chain[3].pk


def test_a_refused_claim_writes_nothing_not_even_the_binding(merchant, customer, chain):
    coupon = shared(merchant, total_quantity=1)
    claim(UserFactory(), merchant, coupon, chain[3].invite_code)

    response = claim(customer, merchant, coupon, chain[3].invite_code)

    assert (response.status_code, response.json()["code"]) == (400, "coupon_sold_out")
    assert not CustomerBinding.objects.filter(customer=customer).exists()
    assert not CouponGrant.objects.filter(customer=customer).exists()
