"""Share posters, the team page and the leaderboard page of a store's distributors."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings
from PIL import Image, ImageDraw

from apps.distributors import posters
from apps.distributors.services import distributor_join
from tests.factories import ProductFactory, SkuFactory, UserFactory
from tests.services.flows import bind, paid_order
from tests.support.posters import assert_poster_with_qr_of, open_png, qr_modules_mismatch

D = Decimal


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def on_sale(merchant):
    product = ProductFactory(merchant=merchant, name="西湖龙井")
    SkuFactory(product=product, price=D("39.00"))
    SkuFactory(product=product, price=D("128.00"))
    return product


# --- posters ----------------------------------------------------------------------------------


def test_product_poster_is_a_png_with_the_qr_code_of_the_distributors_link(
    client, merchant, store_url, chain, on_sale, settings
):
    settings.SITE_URL = "https://mall.example.com"
    d4 = chain[3]
    client.force_login(d4.user)

    response = client.get(store_url("distributor-product-poster", product_id=on_sale.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="poster-{merchant.slug}-{on_sale.pk}.png"'
    )
    url = f"https://mall.example.com/s/{merchant.slug}/p/{on_sale.pk}/?ref={d4.invite_code}"
    image = assert_poster_with_qr_of(response.content, url)
    other_code = (
        f"https://mall.example.com/s/{merchant.slug}/p/{on_sale.pk}/?ref={chain[2].invite_code}"
    )
    assert qr_modules_mismatch(image, other_code) > 0  # the check tells codes apart


def test_store_poster_carries_the_store_link(client, merchant, store_url, chain, settings):
    settings.SITE_URL = "https://mall.example.com"
    client.force_login(chain[0].user)

    response = client.get(store_url("distributor-store-poster"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="poster-{merchant.slug}.png"'
    assert_poster_with_qr_of(
        response.content, f"https://mall.example.com/s/{merchant.slug}/?ref={chain[0].invite_code}"
    )


def test_poster_of_another_merchants_inactive_or_unsold_product_is_404(
    client, merchant, other_merchant, store_url, chain
):
    theirs = SkuFactory(product__merchant=other_merchant).product
    inactive = SkuFactory(product__merchant=merchant, product__is_active=False).product
    no_sku_on_sale = SkuFactory(product__merchant=merchant, is_active=False).product
    client.force_login(chain[0].user)

    for product in (theirs, inactive, no_sku_on_sale):
        url = store_url("distributor-product-poster", product_id=product.pk)
        assert client.get(url).status_code == 404


def test_posters_are_for_signed_in_distributors_only(
    client, merchant, store_url, on_sale, customer
):
    url = store_url("distributor-product-poster", product_id=on_sale.pk)
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(customer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == store_url("distributor-join")


def test_poster_is_cached_until_what_it_shows_changes(
    client, merchant, store_url, chain, on_sale, monkeypatch
):
    renders = []
    real = posters.render_product_poster
    monkeypatch.setattr(
        posters, "render_product_poster", lambda **kw: renders.append(kw) or real(**kw)
    )
    client.force_login(chain[0].user)
    url = store_url("distributor-product-poster", product_id=on_sale.pk)

    first = client.get(url).content
    assert client.get(url).content == first
    assert len(renders) == 1
    on_sale.name = "龙井 新茶"
    on_sale.save(update_fields=["name"])
    client.get(url)
    assert len(renders) == 2
    on_sale.skus.filter(price=D("39.00")).update(price=D("49.00"))
    client.get(url)
    assert [r["price_label"] for r in renders] == ["¥39.00 and up"] * 2 + ["¥49.00 and up"]


def test_product_image_is_drawn_and_a_broken_one_falls_back_to_the_placeholder(
    client, merchant, store_url, chain, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path)
    product = SkuFactory(product__merchant=merchant, price=D("10.00")).product
    (tmp_path / "products").mkdir()
    Image.new("RGB", (1200, 800), (0, 90, 200)).save(tmp_path / "products" / "blue.png")
    product.image.name = "products/blue.png"
    product.save(update_fields=["image"])
    client.force_login(chain[0].user)
    url = store_url("distributor-product-poster", product_id=product.pk)

    image = open_png(client.get(url).content)
    assert image.getpixel((375, 330)) == (0, 90, 200)

    (tmp_path / "products" / "blue.png").write_bytes(b"not an image")
    product.image.name = "products/blue.png?v2"  # a new key: drawn again
    product.save(update_fields=["image"])
    image = open_png(client.get(url).content)
    assert image.getpixel((5, 5)) == posters.PLACEHOLDER


def test_share_page_offers_poster_downloads_and_the_invite_qr(
    client, merchant, store_url, chain, on_sale
):
    client.force_login(chain[0].user)

    content = client.get(store_url("distributor-share")).content.decode()

    poster = store_url("distributor-product-poster", product_id=on_sale.pk)
    assert f'href="http://testserver{poster}"' in content or poster in content
    assert 'data-test="download-store-poster"' in content
    assert f'data-test="download-poster-{on_sale.pk}"' in content
    assert 'data-test="join-qr"' in content


# --- the CJK font -----------------------------------------------------------------------------


def _ink(text: str, font) -> Image.Image:  # type: ignore[no-untyped-def]
    canvas = Image.new("L", (200, 100), 255)
    ImageDraw.Draw(canvas).text((10, 10), text, font=font, fill=0)
    return canvas


@pytest.fixture
def cjk_font_path():
    path = posters.poster_font_path()
    if path is None:
        pytest.fail("No CJK font: `make install` installs fonts-wqy-microhei (or set "
                    "FENXIAO_POSTER_FONT).")  # fmt: skip
    return path


def test_chinese_renders_as_real_glyphs_not_boxes(cjk_font_path):
    font = posters.poster_font(48)
    fen, xiao, missing = _ink("分", font), _ink("销", font), _ink("\uffff", font)

    dark = [sum(1 for value in image.get_flattened_data() if value < 128) for image in (fen, xiao)]
    assert min(dark) > 50  # glyphs drawn
    # Tofu draws one box for every missing character: real glyphs differ from each other
    # and from the box the font draws for a character it lacks.
    assert fen.tobytes() != xiao.tobytes()
    assert fen.tobytes() != missing.tobytes() and xiao.tobytes() != missing.tobytes()


def test_font_setting_wins_and_a_missing_one_falls_back(cjk_font_path, tmp_path):
    with override_settings(FENXIAO_POSTER_FONT=cjk_font_path):
        assert posters.poster_font_path() == cjk_font_path
    with override_settings(FENXIAO_POSTER_FONT=str(tmp_path / "none.ttf")):
        assert posters.poster_font_path() == cjk_font_path  # the candidates next


def test_without_any_font_posters_still_render(monkeypatch, tmp_path, settings):
    settings.FENXIAO_POSTER_FONT = str(tmp_path / "none.ttf")
    monkeypatch.setattr(posters, "FONT_CANDIDATES", ())
    assert posters.poster_font_path() is None

    png = posters.render_store_poster(
        merchant=type("M", (), {"name": "Tea"})(), url="https://x.example/s/t/?ref=A",
        distributor_name="Li",
    )  # fmt: skip

    assert_poster_with_qr_of(png, "https://x.example/s/t/?ref=A")


# --- team -------------------------------------------------------------------------------------


def test_team_page_shows_levels_members_sales_and_upline(client, merchant, store_url, chain, sku):
    root, second, third, fourth = chain
    fifth = distributor_join(merchant=merchant, user=UserFactory(), invite_code=fourth.invite_code)
    sibling = distributor_join(merchant=merchant, user=UserFactory(), invite_code=root.invite_code)
    buyer = UserFactory()
    bind(merchant=merchant, customer=buyer, distributor=third)
    paid_order(merchant=merchant, customer=buyer, lines=[(sku, 2)])
    client.force_login(second.user)

    response = client.get(store_url("distributor-team"), {"period": "all"})

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["team_size"] == 3
    assert response.context["level_counts"] == [(1, 1), (2, 1), (3, 1)]
    assert response.context["upline"] == [root]
    [member] = response.context["page"].object_list
    assert member == third
    assert (member.recruits, member.subtree_size) == (1, 2)
    assert member.sales_in_period == member.sales_total == sku.price * 2
    assert 'data-test="team-size">3<' in content
    assert "Level 1 · 1 member<" in content
    assert sibling.user.display_name not in content

    level3 = client.get(store_url("distributor-team"), {"level": "3"})
    assert list(level3.context["page"].object_list) == [fifth]


def test_team_counts_by_interval_even_with_gaps_in_the_numbering(
    client, merchant, store_url, chain
):
    root = chain[0]
    type(root).objects.filter(pk=root.pk).update(rght=root.rght + 1000)  # a gapped nested set
    client.force_login(root.user)

    response = client.get(store_url("distributor-team"))

    assert response.context["team_size"] == 3  # (rght - lft) / 2 would say 503


@pytest.mark.parametrize("rows", [1, 6])
def test_team_page_queries_do_not_grow_with_members(
    client, merchant, store_url, chain, django_assert_num_queries, rows
):
    root = chain[0]
    for _ in range(rows):
        member = distributor_join(
            merchant=merchant, user=UserFactory(), invite_code=root.invite_code
        )
        distributor_join(merchant=merchant, user=UserFactory(), invite_code=member.invite_code)
    client.force_login(root.user)
    # user (the session is cached), store, distributor, summary, members, own sales, upline
    with django_assert_num_queries(6):
        response = client.get(store_url("distributor-team"))
    assert len(response.context["page"].object_list) == rows + 1


# --- leaderboard ------------------------------------------------------------------------------


def test_leaderboard_page_ranks_masks_names_and_shows_my_rank(client, merchant, store_url, sku):
    top = [
        distributor_join(merchant=merchant, user=UserFactory(nickname=f"张{i}{i}"))
        for i in range(12)
    ]
    for position, distributor in enumerate(top):
        buyer = UserFactory()
        bind(merchant=merchant, customer=buyer, distributor=distributor)
        paid_order(merchant=merchant, customer=buyer, lines=[(sku, 12 - position)])
    me = top[-1]  # the 12th: outside the top 10
    client.force_login(me.user)

    response = client.get(
        store_url("distributor-leaderboard"), {"board": "sales", "period": "week"}
    )

    board = response.context["leaderboard"]
    assert [entry.rank for entry in board.top] == list(range(1, 11))
    assert [entry.name for entry in board.top] == ["张*"] * 10
    assert board.top[0].value == sku.price * 12
    assert (board.viewer.rank, board.viewer.value, board.viewer.name) == (12, sku.price, "张1111")
    content = response.content.decode()
    assert "张00" not in content and "张*" in content
    assert "You are number 12" in content
