"""factory_boy factories shared by every test module."""

from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password

from apps.accounts.models import USER_PHONE, User
from apps.commissions.models import CommissionPlan
from apps.core.personal import phone_index
from apps.merchants.models import Merchant, MerchantStaff
from apps.products.models import Product, Sku

PASSWORD = "fenxiao-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))
    phone = ""
    phone_index = factory.LazyAttribute(lambda user: phone_index(user.phone, purpose=USER_PHONE))


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    status = Merchant.Status.ACTIVE
    platform_fee_percent = Decimal("1.00")

    @factory.post_generation
    def commission_plan(merchant, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            CommissionPlan.objects.create(merchant=merchant, **kwargs)


class MerchantStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantStaff

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory, is_staff=True)
    role = MerchantStaff.Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine product."


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    merchant = factory.LazyAttribute(lambda sku: sku.product.merchant)
    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Variant {n}")
    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("100.00")
    stock = 100
