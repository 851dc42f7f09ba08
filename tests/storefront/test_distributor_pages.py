"""Join, earnings, share links, QR codes and team pages of a store's distributors."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.services import distributor_join
from tests.factories import ProductFactory, SkuFactory, UserFactory


@pytest.mark.parametrize("name", ["distributor-earnings", "distributor-share", "distributor-team"])
def test_non_distributor_is_sent_to_join(signed_in, store_url, name):
    response = signed_in.get(store_url(name))

    assert response.status_code == 302
    assert response["Location"] == store_url("distributor-join")


def test_qr_for_non_distributor_redirects_to_join(signed_in, store_url, merchant):
    response = signed_in.get(store_url("distributor-qr"), {"target": f"/s/{merchant.slug}/"})

    assert response.status_code == 302 and response["Location"] == store_url("distributor-join")


def test_join_requires_sign_in_and_keeps_the_ref(client, store_url, distributor):
    url = f"{store_url('distributor-join')}?ref={distributor.invite_code}"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('accounts:login')}?next=")
    assert distributor.invite_code in response["Location"]


def test_join_page_shows_inviter_from_ref_and_joins_under_them(
    signed_in, customer, merchant, store_url, distributor
):
    page = signed_in.get(store_url("distributor-join"), {"ref": distributor.invite_code})

    assert page.status_code == 200
    assert page.context["inviter"] == distributor
    assert 'data-test="inviter"' in page.content.decode()
    assert distributor.user.display_name in page.content.decode()

    response = signed_in.post(
        store_url("distributor-join"), {"invite_code": distributor.invite_code}
    )

    assert response.status_code == 302
    assert response["Location"] == store_url("distributor-earnings")
    me = Distributor.objects.get(merchant=merchant, user=customer)
    assert me.parent_id == distributor.pk


def test_join_page_shows_inviter_from_remembered_cookie(
    client, customer, merchant, store_url, distributor
):
    client.cookies[f"fx_ref_{merchant.slug}"] = distributor.invite_code
    client.force_login(customer)

    page = client.get(store_url("distributor-join"))

    assert page.context["inviter"] == distributor
    assert page.context["form"].initial == {"invite_code": distributor.invite_code}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("bad!", "“bad!” is not a valid invite code."),
        ("ZZZZZZZZ", "No distributor has the invite code “ZZZZZZZZ”."),
    ],
)
def test_join_with_malformed_or_unknown_code_writes_nothing(
    signed_in, customer, store_url, code, message
):
    response = signed_in.post(store_url("distributor-join"), {"invite_code": code})

    assert response.status_code in (400, 404)
    assert response.context["form"].errors["invite_code"] == [message]
    assert not Distributor.objects.filter(user=customer).exists()
    assert not CustomerBinding.objects.filter(customer=customer).exists()


def test_join_without_code_makes_a_root_and_a_second_visit_goes_to_earnings(
    signed_in, customer, merchant, store_url
):
    response = signed_in.post(store_url("distributor-join"), {"invite_code": ""})
    again = signed_in.get(store_url("distributor-join"))

    assert response.status_code == 302
    me = Distributor.objects.get(merchant=merchant, user=customer)
    assert me.parent_id is None
    assert again.status_code == 302 and again["Location"] == store_url("distributor-earnings")


def test_earnings_page_with_no_records(distributor_client, store_url, distributor):
    response = distributor_client.get(store_url("distributor-earnings"))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-test="wallet-frozen">¥0.00<' in content
    assert 'data-test="wallet-available">¥0.00<' in content
    assert 'data-test="wallet-total">¥0.00<' in content
    assert distributor.invite_code in content
    assert "No commission yet." in content


def test_share_page_links_every_product_with_the_code(
    distributor_client, merchant, store_url, distributor, settings
):
    settings.SITE_URL = "https://mall.example.com"
    tea = ProductFactory(merchant=merchant, name="Green Tea")
    SkuFactory(product=tea)

    response = distributor_client.get(store_url("distributor-share"))

    content = response.content.decode()
    code = distributor.invite_code
    assert response.status_code == 200
    assert f'value="https://mall.example.com/s/{merchant.slug}/?ref={code}"' in content
    assert f'value="https://mall.example.com/s/{merchant.slug}/p/{tea.pk}/?ref={code}"' in content
    assert f'data-test="share-product-{tea.pk}"' in content
    assert 'data-copy="link-store"' in content
    qr = f"{store_url('distributor-qr')}?target=/s/{merchant.slug}/"
    assert f'src="{qr}"' in content


def test_qr_endpoint_renders_a_png_for_a_store_page(distributor_client, merchant, store_url):
    response = distributor_client.get(
        store_url("distributor-qr"), {"target": f"/s/{merchant.slug}/p/1/"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size[0] == image.size[1] > 100


@pytest.mark.parametrize(
    "target",
    [
        "",
        "/",
        "/s/other-store/",
        "https://evil.example.com/s/{slug}/",
        "//evil.example.com/s/{slug}/",
        "/s/{slug}/../other-store/",
        "/s/{slug}",
        "s/{slug}/",
        "/s/{slug}\\..\\x",
        "//[/",
        "http://[::1",
    ],
)
def test_qr_endpoint_refuses_targets_outside_the_store(
    distributor_client, merchant, store_url, target
):
    response = distributor_client.get(
        store_url("distributor-qr"), {"target": target.format(slug=merchant.slug)}
    )

    assert response.status_code == 400


def qr_target_of_length(merchant, length):
    prefix = f"/s/{merchant.slug}/p/1/?q="
    return prefix + "a" * (length - len(prefix))


def test_qr_endpoint_accepts_a_target_of_512_characters(distributor_client, merchant, store_url):
    target = qr_target_of_length(merchant, 512)

    response = distributor_client.get(store_url("distributor-qr"), {"target": target})

    assert len(target) == 512
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


def test_qr_endpoint_refuses_a_target_of_513_characters(distributor_client, merchant, store_url):
    response = distributor_client.get(
        store_url("distributor-qr"), {"target": qr_target_of_length(merchant, 513)}
    )

    assert response.status_code == 400
    assert response.content.decode() == "The QR code target may be at most 512 characters long."


@pytest.mark.parametrize("length", [2_500, 10_000])
def test_qr_endpoint_refuses_very_long_targets(distributor_client, merchant, store_url, length):
    response = distributor_client.get(
        store_url("distributor-qr"), {"target": qr_target_of_length(merchant, length)}
    )

    assert response.status_code == 400
    assert response.content.decode() == "The QR code target may be at most 512 characters long."


def test_qr_endpoint_refuses_a_short_target_whose_url_is_too_long_for_a_qr_code(
    distributor_client, merchant, store_url
):
    # 300 characters, but each 中 is percent-encoded to 9 bytes in the URL: 2,700 bytes
    target = f"/s/{merchant.slug}/?q=" + "中" * (300 - len(f"/s/{merchant.slug}/?q="))

    response = distributor_client.get(store_url("distributor-qr"), {"target": target})

    assert len(target) == 300
    assert response.status_code == 400
    assert response.content.decode() == "The QR code target is too long to fit in a QR code."


def test_qr_target_url_adds_the_code_and_replaces_any_other_ref(merchant, settings):
    from apps.storefront.views import qr_target_url

    settings.SITE_URL = "https://mall.example.com"

    url = qr_target_url(
        merchant=merchant, target=f"/s/{merchant.slug}/p/7/?ref=OLD&x=1", invite_code="ABCDEFGH"
    )

    assert url == f"https://mall.example.com/s/{merchant.slug}/p/7/?x=1&ref=ABCDEFGH"


def test_team_page_shows_levels_sizes_and_upline(client, merchant, store_url, chain):
    root, second, third, fourth = chain
    distributor_join(merchant=merchant, user=UserFactory(), invite_code=fourth.invite_code)
    sibling = distributor_join(merchant=merchant, user=UserFactory(), invite_code=root.invite_code)
    client.force_login(second.user)

    response = client.get(store_url("distributor-team"))

    content = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [third]
    assert response.context["level_counts"] == [(1, 1), (2, 1), (3, 1)]
    assert response.context["team_size"] == 3
    assert response.context["upline"] == [root]
    assert 'data-test="team-size">3<' in content
    assert 'data-test="level-1-count">1<' in content
    assert "Level 1 · 1 member<" in content
    assert root.user.display_name in content
    assert sibling.user.display_name not in content
