"""Pages speak English in tests by default and Chinese when the visitor asks for it."""

from django.urls import reverse

from tests.factories import ProductFactory, SkuFactory


def test_catalogue_renders_chinese_for_accept_language(client, merchant):
    SkuFactory(product=ProductFactory(merchant=merchant), stock=5)
    url = reverse("storefront:catalogue", kwargs={"slug": merchant.slug})

    english = client.get(url).content.decode()
    chinese = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content.decode()

    assert "In stock" in english and ">Cart<" in english
    assert '<html lang="zh-hans">' in chinese
    assert "有货" in chinese and ">购物车<" in chinese and "In stock" not in chinese


def test_language_cookie_selects_chinese_and_set_language_switches(client, merchant, settings):
    url = reverse("storefront:catalogue", kwargs={"slug": merchant.slug})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    chinese = client.get(url).content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    english = client.get(url).content.decode()

    assert "这家店还没有在售商品" in chinese
    assert response.status_code == 302 and response["Location"] == url
    assert "This store has nothing on sale yet." in english
