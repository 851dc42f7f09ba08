"""POST bodies of the product change form (with its SKU inline), as the admin page sends them."""

# The SKU form's inline of agency purchase prices, sent empty.
NO_TIER_PRICES = {
    "tier_prices-TOTAL_FORMS": "0",
    "tier_prices-INITIAL_FORMS": "0",
    "tier_prices-MIN_NUM_FORMS": "0",
    "tier_prices-MAX_NUM_FORMS": "1000",
}


def product_form_data(product, skus=(), **overrides):
    data = {
        "name": product.name,
        "description": product.description,
        "sort_order": str(product.sort_order),
        "is_active": "on" if product.is_active else "",
        "skus-TOTAL_FORMS": str(len(skus)),
        "skus-INITIAL_FORMS": str(len(skus)),
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
    }
    for index, sku in enumerate(skus):
        data |= {
            f"skus-{index}-id": str(sku.pk),
            f"skus-{index}-product": str(product.pk),
            f"skus-{index}-name": sku.name,
            f"skus-{index}-code": sku.code,
            f"skus-{index}-price": str(sku.price),
            f"skus-{index}-stock": str(sku.stock),
            f"initial-skus-{index}-stock": str(sku.stock),
            f"skus-{index}-is_active": "on",
        }
    return {key: value for key, value in (data | overrides).items() if value != ""}


def new_product_data(**overrides):
    data = {
        "name": "Green tea",
        "description": "",
        "sort_order": "0",
        "is_active": "on",
        "skus-TOTAL_FORMS": "1",
        "skus-INITIAL_FORMS": "0",
        "skus-MIN_NUM_FORMS": "0",
        "skus-MAX_NUM_FORMS": "1000",
        "skus-0-name": "250 g",
        "skus-0-code": "TEA-250",
        "skus-0-price": "38.00",
        "skus-0-stock": "12",
        "initial-skus-0-stock": "12",
        "skus-0-is_active": "on",
    }
    return data | overrides
