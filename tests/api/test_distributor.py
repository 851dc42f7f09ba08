"""Distributor API: join, profile, team, share links, earnings and commission records."""

from urllib.parse import quote

from django.conf import settings

from apps.commissions.services import commission_settle_orders
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from apps.orders.services import order_confirm_receipt, order_ship
from apps.programme.binding import customer_bind
from tests.factories import ProductFactory, SkuFactory, UserFactory
from tests.services.flows import paid_order

from .conftest import api_url, client_for


def test_join_as_a_root_then_again(merchant, customer):
    client = client_for(customer)
    url = api_url("store-distributor-join", store=merchant.slug)

    created = client.post(url, {}, format="json")
    again = client.post(url, {}, format="json")

    distributor = Distributor.objects.get(merchant=merchant, user=customer)
    site = settings.SITE_URL
    assert created.status_code == 201
    assert created.json() == {
        "id": distributor.pk,
        "display_name": customer.username,
        "invite_code": distributor.invite_code,
        "status": "active",
        "level": 0,
        "joined_at": created.json()["joined_at"],
        "share_url": f"{site}/s/{merchant.slug}/?ref={distributor.invite_code}",
        "qr_url": f"{site}/s/{merchant.slug}/d/qr.png?target=%2Fs%2F{merchant.slug}%2F",
        "upline": [],
    }
    assert again.status_code == 200
    assert again.json()["id"] == distributor.pk
    assert Distributor.objects.filter(merchant=merchant).count() == 1


def test_join_under_an_inviter(merchant, chain, customer):
    response = client_for(customer).post(
        api_url("store-distributor-join", store=merchant.slug),
        {"invite_code": chain[3].invite_code.lower()},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["level"] == 4
    assert [(m["relative_level"], m["id"]) for m in response.json()["upline"]] == [
        (1, chain[3].pk),
        (2, chain[2].pk),
        (3, chain[1].pk),
    ]
    assert Distributor.objects.get(user=customer).parent_id == chain[3].pk


def test_join_with_a_malformed_or_unknown_code_writes_nothing(merchant, customer):
    client = client_for(customer)
    url = api_url("store-distributor-join", store=merchant.slug)

    malformed = client.post(url, {"invite_code": "no!"}, format="json")
    unknown = client.post(url, {"invite_code": "ABCDEFGH"}, format="json")

    assert malformed.status_code == 400
    assert malformed.json() == {
        "detail": "“no!” is not a valid invite code.",
        "code": "invalid_invite_code",
    }
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_invite_code"
    assert not Distributor.objects.exists()


def test_me_shows_the_upline_of_three(merchant, chain):
    deepest = chain[3]
    response = client_for(deepest.user).get(api_url("store-distributor-me", store=merchant.slug))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["invite_code"], body["level"]) == (deepest.pk, deepest.invite_code, 3)
    assert body["upline"] == [
        {
            "relative_level": level,
            "id": chain[3 - level].pk,
            "display_name": chain[3 - level].user.username,
            "invite_code": chain[3 - level].invite_code,
        }
        for level in (1, 2, 3)
    ]


def test_not_a_distributor(merchant, customer):
    client = client_for(customer)
    for name in ("store-distributor-me", "store-distributor-team", "store-distributor-share-links",
                 "store-distributor-earnings"):  # fmt: skip
        response = client.get(api_url(name, store=merchant.slug))
        assert response.status_code == 404
        assert response.json() == {
            "detail": "You are not a distributor of this store.",
            "code": "not_a_distributor",
        }
    assert client.get(api_url("store-commission-list", store=merchant.slug)).json()["count"] == 0


def test_team_levels_one_to_three(merchant, chain):
    extra = distributor_join(
        merchant=merchant, user=UserFactory(), invite_code=chain[0].invite_code
    )

    response = client_for(chain[0].user).get(api_url("store-distributor-team", store=merchant.slug))

    assert response.status_code == 200
    body = response.json()
    assert body["team_size"] == 4
    assert [(level["level"], level["count"]) for level in body["levels"]] == [
        (1, 2),
        (2, 1),
        (3, 1),
    ]
    assert [m["id"] for m in body["upline"]] == []
    members = (
        client_for(chain[0].user)
        .get(api_url("store-distributor-team-members", store=merchant.slug), {"level": 1})
        .json()["results"]
    )
    assert [(m["id"], m["recruits"], m["subtree_size"]) for m in members] == [
        (chain[1].pk, 1, 2),
        (extra.pk, 0, 0),
    ]
    level3 = (
        client_for(chain[0].user)
        .get(api_url("store-distributor-team-members", store=merchant.slug), {"level": 3})
        .json()["results"]
    )
    assert [m["id"] for m in level3] == [chain[3].pk]
    bad = client_for(chain[0].user).get(
        api_url("store-distributor-team-members", store=merchant.slug), {"level": 4}
    )
    assert bad.status_code == 400


def test_share_links(merchant, chain):
    on_sale = SkuFactory(product__merchant=merchant, product__name="Green tea").product
    ProductFactory(merchant=merchant, is_active=False)
    code = chain[1].invite_code

    response = client_for(chain[1].user).get(
        api_url("store-distributor-share-links", store=merchant.slug)
    )

    assert response.status_code == 200
    store_path = f"/s/{merchant.slug}/"
    product_path = f"/s/{merchant.slug}/p/{on_sale.pk}/"
    qr = f"{settings.SITE_URL}/s/{merchant.slug}/d/qr.png?target="
    join_path = f"/s/{merchant.slug}/d/join/"
    poster = f"{settings.SITE_URL}/s/{merchant.slug}/d/poster/"
    assert response.json() == {
        "invite_code": code,
        "join_url": f"{settings.SITE_URL}{join_path}?ref={code}",
        "join_qr_url": qr + quote(join_path, safe=""),
        "links": [
            {
                "kind": "store",
                "product": None,
                "name": merchant.name,
                "url": f"{settings.SITE_URL}{store_path}?ref={code}",
                "qr_url": qr + quote(store_path, safe=""),
                "poster_url": f"{poster}store.png",
            },
            {
                "kind": "product",
                "product": on_sale.pk,
                "name": "Green tea",
                "url": f"{settings.SITE_URL}{product_path}?ref={code}",
                "qr_url": qr + quote(product_path, safe=""),
                "poster_url": f"{poster}{on_sale.pk}.png",
            },
        ],
    }


def test_earnings_and_commission_records(merchant, chain, sku, staff_user):
    buyer = UserFactory()
    customer_bind(merchant=merchant, customer=buyer, invite_code=chain[3].invite_code)
    order = paid_order(merchant=merchant, customer=buyer, lines=[(sku, 2)])
    order_ship(
        merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="1", actor=staff_user
    )
    order_confirm_receipt(merchant=merchant, customer=buyer, order_id=order.pk)
    commission_settle_orders(order_id=order.pk)
    client = client_for(chain[3].user)

    earnings = client.get(api_url("store-distributor-earnings", store=merchant.slug))
    records = client.get(api_url("store-commission-list", store=merchant.slug))
    level2 = client_for(chain[2].user).get(
        api_url("store-distributor-earnings", store=merchant.slug)
    )

    assert earnings.status_code == 200
    assert earnings.json() == {
        "frozen": "20.00",
        "available": "0.00",
        "withdrawing": "0.00",
        "withdrawn": "0.00",
        "total": "20.00",
    }
    assert level2.json()["frozen"] == "10.00"
    assert records.status_code == 200
    assert records.json()["count"] == 1
    record = records.json()["results"][0]
    line = order.lines.get()
    assert {
        key: record[key] for key in record if key not in ("id", "release_at", "created_at")
    } == {
        "order": order.pk,
        "order_number": order.number,
        "order_line": line.pk,
        "product_name": line.product_name,
        "sku_name": line.sku_name,
        "level": 1,
        "kind": "commission",
        "rule": "default",
        "base_amount": "200.00",
        "quantity": 2,
        "rate_percent": "10.00",
        "bonus_percent": "0.00",
        "unit_amount": None,
        "amount": "20.00",
        "reversed_amount": "0.00",
        "explanation": {
            "rule": "default",
            "source_id": merchant.commission_plan.pk,
            "mode": "percent",
            "value": "10.00",
            "base": "200.00",
            "quantity": 2,
            "cap_percent": "30.00",
            "cap_trimmed": False,
            "amount": "20.00",
            "rate_percent": "10.00",
        },
        "explanation_text": "Merchant default percent: 10.00% of 200.00 paid → 20.00 (rounded down)",
        "status": "frozen",
        "released_at": None,
    }
