"""Suppliers with a product each, their staff, and stores that picked the products."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.dropship.services import supply_pick
from apps.suppliers.models import Supplier, SupplierStaff, SupplyProduct, SupplySku
from tests.factories import UserFactory


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def licence_png(name: str = "licence.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def make_supplier(slug: str = "tea-farm") -> Supplier:
    return Supplier.objects.create(name=f"{slug} Co.", slug=slug, categories="tea")


def make_supply_product(
    supplier: Supplier,
    *,
    supply_price: str = "60.00",
    min_retail: str = "80.00",
    suggested: str = "99.00",
    stock: int = 50,
    code: str = "250",
) -> SupplySku:
    product = SupplyProduct.objects.create(supplier=supplier, name=f"{supplier.slug} oolong")
    return SupplySku.objects.create(
        supplier=supplier,
        product=product,
        name="250 g",
        code=code,
        supply_price=Decimal(supply_price),
        suggested_retail_price=Decimal(suggested),
        min_retail_price=Decimal(min_retail),
        stock=stock,
    )


def make_supplier_staff(supplier: Supplier):
    user = UserFactory(is_staff=True)
    SupplierStaff.objects.create(supplier=supplier, user=user, role=SupplierStaff.Role.OWNER)
    return user


def pick(merchant, pool: SupplySku, price: str = "99.00"):
    product = supply_pick(
        merchant=merchant, supply_product_id=pool.product_id, prices={pool.pk: price}
    )
    return product.skus.get()


@pytest.fixture
def supplier(db):
    return make_supplier()


@pytest.fixture
def pool(supplier):
    return make_supply_product(supplier)
