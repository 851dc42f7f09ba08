"""Agency mode in the back office: a SKU's floor and ceiling and its purchase prices per tier."""

from decimal import Decimal

from django.urls import reverse

from apps.distributors.models import Tier, TierSkuPrice
from apps.products.models import Sku

from .form_data import NO_TIER_PRICES


def change_url(sku):
    return reverse("admin:products_sku_change", args=[sku.pk])


def sku_post(sku, **overrides):
    return {
        "product": str(sku.product_id),
        "name": sku.name,
        "code": sku.code,
        "price": str(sku.price),
        "stock": str(sku.stock),
        "initial-stock": str(sku.stock),
        "is_active": "on",
        **NO_TIER_PRICES,
        **overrides,
    }


def test_a_floor_above_the_price_is_a_form_error(store_a, staff_client):
    sku = store_a.sku
    response = staff_client.post(
        change_url(sku), sku_post(sku, min_resale_price=str(sku.price + 1))
    )
    assert response.status_code == 200
    assert "below the resale price floor" in str(response.context["adminform"].form.errors)
    assert Sku.objects.get(pk=sku.pk).min_resale_price is None


def test_floor_and_ceiling_are_saved(store_a, staff_client):
    sku = store_a.sku
    response = staff_client.post(
        change_url(sku),
        sku_post(sku, min_resale_price="1.00", max_resale_price=str(sku.price + 50)),
    )
    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.min_resale_price, sku.max_resale_price) == (Decimal("1.00"), sku.price + 50)


def test_tier_prices_inline_through_the_services(store_a, store_b, staff_client):
    sku = store_a.sku  # has a base price of 1.00 from the store fixture
    gold = Tier.objects.create(merchant=store_a.merchant, name="Platinum", rank=7)
    foreign = Tier.objects.create(merchant=store_b.merchant, name="Platinum", rank=7)
    base = TierSkuPrice.objects.get(sku=sku)
    inline = {
        "tier_prices-TOTAL_FORMS": "2",
        "tier_prices-INITIAL_FORMS": "1",
        "tier_prices-0-id": str(base.pk),
        "tier_prices-0-sku": str(sku.pk),
        "tier_prices-0-tier": "",
        "tier_prices-0-purchase_price": "2.00",
        "tier_prices-1-sku": str(sku.pk),
        "tier_prices-1-tier": str(gold.pk),
        "tier_prices-1-purchase_price": "1.50",
    }
    response = staff_client.post(change_url(sku), sku_post(sku) | inline)
    assert response.status_code == 302
    assert sorted(
        TierSkuPrice.objects.filter(sku=sku).values_list("tier_id", "purchase_price"),
        key=str,
    ) == sorted([(None, Decimal("2.00")), (gold.pk, Decimal("1.50"))], key=str)

    foreign_row = inline | {
        "tier_prices-TOTAL_FORMS": "3",
        "tier_prices-INITIAL_FORMS": "2",
        "tier_prices-1-id": str(TierSkuPrice.objects.get(tier=gold).pk),
        "tier_prices-2-sku": str(sku.pk),
        "tier_prices-2-tier": str(foreign.pk),
        "tier_prices-2-purchase_price": "0.50",
    }
    response = staff_client.post(change_url(sku), sku_post(sku) | foreign_row)
    assert response.status_code == 200
    assert TierSkuPrice.objects.filter(tier=foreign).count() == 0
