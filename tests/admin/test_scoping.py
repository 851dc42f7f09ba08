"""Every registered admin, enumerated: merchant staff see only their store, the operator sees all,
and platform-level admins are the operator's alone."""

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token, TokenProxy

from apps.accounts.models import User
from apps.commissions.models import CommissionOverride, CommissionPlan, CommissionRecord
from apps.core.admin import OperatorOnlyMixin
from apps.credentials.models import ProviderAccount
from apps.distributors.models import (
    BindingChange,
    CustomerBinding,
    Distributor,
    DistributorApplication,
    DistributorPrice,
    FraudFlag,
    ProgrammeSettings,
    Tier,
    TierChange,
)
from apps.dropship.admin import CatalogueAdmin
from apps.dropship.models import CatalogueProduct, Shipment, SupplierPayable, SupplierShipment
from apps.groupbuy.models import Group as BuyerGroup
from apps.groupbuy.models import GroupBuy
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.live.models import LiveRoom
from apps.marketing.models import Coupon, CouponGrant, FlashSale, Promotion
from apps.materials.models import Material, MaterialRead
from apps.members.models import Member, MemberLevel, MemberSettings, MemberTag
from apps.merchants.models import Merchant, MerchantApplication, MerchantStaff
from apps.merchants.services import merchant_application_submit
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.products.models import Product, Sku
from apps.refunds.models import RefundCase
from apps.suppliers.models import (
    Supplier,
    SupplierApplication,
    SupplierStaff,
    SupplyProduct,
    SupplySku,
)
from apps.suppliers.scoping import SupplierScopedAdmin
from apps.suppliers.services import supplier_application_submit
from apps.tenancy.admin import MerchantScopedAdmin
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.withdrawals.models import Withdrawal, WithdrawalSettings

from .conftest import build_store

# Rows of each merchant-owned model that one store built by ``build_store`` has.
ROWS_PER_STORE = {
    Product: 1,
    Sku: 1,
    Distributor: 2,
    CustomerBinding: 1,
    DistributorPrice: 1,
    Order: 3,
    Payment: 1,
    CommissionPlan: 1,
    CommissionOverride: 1,
    CommissionRecord: 2,
    Wallet: 2,
    RefundCase: 1,
    LedgerEntry: 7,  # 3 of the settled order, 2 funding the invitee, 2 of the withdrawal
    Journal: 3,
    WithdrawalSettings: 1,
    Withdrawal: 1,
    ProgrammeSettings: 1,
    DistributorApplication: 1,
    Tier: 1,
    TierChange: 1,
    BindingChange: 1,
    FraudFlag: 1,
    Material: 1,
    MaterialRead: 1,
    WebhookEndpoint: 1,
    WebhookDelivery: 1,
    Shipment: 1,
    Coupon: 1,
    CouponGrant: 1,
    Promotion: 1,
    FlashSale: 1,
    MemberSettings: 1,
    MemberLevel: 1,
    MemberTag: 1,
    Member: 1,  # the customer, a member since their completed order
    LiveRoom: 1,
    ProviderAccount: 1,
    GroupBuy: 1,
    BuyerGroup: 1,
}
# Rows added by hand in the back office: catalogue only (a merchant's one commission plan exists).
# (A merchant's programme settings exist, so staff cannot add a second one.)
ADDABLE_BY_STAFF = {
    Product,
    Sku,
    Tier,
    Material,
    CommissionOverride,
    Coupon,
    Promotion,
    FlashSale,
    MemberLevel,
    MemberTag,
    LiveRoom,
    WebhookEndpoint,
    ProviderAccount,
    GroupBuy,
}
ADDABLE_BY_OPERATOR = {
    Product,
    Sku,
    CommissionPlan,
    ProgrammeSettings,
    Tier,
    Material,
    CommissionOverride,
    WithdrawalSettings,
    Coupon,
    Promotion,
    FlashSale,
    MemberSettings,
    MemberLevel,
    MemberTag,
    WebhookEndpoint,
    LiveRoom,
    ProviderAccount,
    GroupBuy,
}
OPERATOR_ONLY = {
    Merchant,
    MerchantApplication,
    MerchantStaff,
    User,
    Group,
    TokenProxy,
    Supplier,
    SupplierApplication,
    SupplierStaff,
    LogEntry,
    TOTPDevice,
}
# Scoped to the signed-in supplier (tests/suppliers/test_back_offices.py walks them), and the
# supply catalogue that every merchant's staff browse.
SUPPLIER_ONLY = {SupplyProduct, SupplySku, SupplierShipment}
CATALOGUE = {CatalogueProduct}
# Scoped like the rest, walked by tests/suppliers/test_owed_to_suppliers.py: the stores built
# here sell no supplied goods, so they owe no supplier anything.
SWEPT_WITH_SUPPLIERS = {SupplierPayable}

MERCHANT_ADMINS = sorted(
    (
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, MerchantScopedAdmin) and model not in SWEPT_WITH_SUPPLIERS
    ),
    key=lambda model: model._meta.label,
)
OPERATOR_ADMINS = sorted(
    (
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, OperatorOnlyMixin)
    ),
    key=lambda model: model._meta.label,
)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def rows_of(model, merchant):
    return set(model._default_manager.filter(merchant=merchant).values_list("pk", flat=True))


def test_every_registered_admin_is_scoped_or_operator_only():
    assert set(MERCHANT_ADMINS) == set(ROWS_PER_STORE)
    assert set(OPERATOR_ADMINS) == OPERATOR_ONLY
    supplier_admins = {
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SupplierScopedAdmin)
    }
    assert supplier_admins == SUPPLIER_ONLY
    assert {
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, CatalogueAdmin)
    } == CATALOGUE
    assert len(admin.site._registry) == (
        len(ROWS_PER_STORE)
        + len(OPERATOR_ONLY)
        + len(SUPPLIER_ONLY)
        + len(CATALOGUE)
        + len(SWEPT_WITH_SUPPLIERS)
    )
    assert all(
        isinstance(admin.site._registry[model], MerchantScopedAdmin)
        for model in SWEPT_WITH_SUPPLIERS
    )


@pytest.mark.parametrize("model", MERCHANT_ADMINS, ids=lambda model: model._meta.label)
def test_staff_see_only_their_merchants_rows(model, store_a, store_b, staff_client):
    a_rows, b_rows = rows_of(model, store_a.merchant), rows_of(model, store_b.merchant)
    assert len(a_rows) == len(b_rows) == ROWS_PER_STORE[model]

    response = staff_client.get(url(model, "changelist"))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == ROWS_PER_STORE[model]
    assert changelist.full_result_count == ROWS_PER_STORE[model]
    assert {row.pk for row in changelist.result_list} == a_rows
    a_row, b_row = min(a_rows), min(b_rows)
    assert staff_client.get(url(model, "change", a_row)).status_code == 200
    assert staff_client.get(url(model, "change", b_row)).status_code == 404
    assert staff_client.post(url(model, "change", b_row), {}).status_code == 404
    assert staff_client.get(url(model, "delete", b_row)).status_code == 404
    assert staff_client.post(url(model, "delete", b_row), {"post": "yes"}).status_code == 404
    assert staff_client.get(url(model, "history", b_row)).status_code == 404
    assert staff_client.get(url(model, "change", 999_999_999)).status_code == 404
    assert staff_client.get(url(model, "add")).status_code == (
        200 if model in ADDABLE_BY_STAFF else 403
    )
    assert model._default_manager.filter(pk=b_row).exists()


@pytest.mark.parametrize("model", MERCHANT_ADMINS, ids=lambda model: model._meta.label)
def test_operator_sees_every_merchants_rows(model, store_a, store_b, operator_client):
    response = operator_client.get(url(model, "changelist"))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 2 * ROWS_PER_STORE[model]
    assert {row.pk for row in changelist.result_list} == (
        rows_of(model, store_a.merchant) | rows_of(model, store_b.merchant)
    )
    assert "merchant" in changelist.list_display
    b_row = min(rows_of(model, store_b.merchant))
    assert operator_client.get(url(model, "change", b_row)).status_code == 200
    assert operator_client.get(url(model, "add")).status_code == (
        200 if model in ADDABLE_BY_OPERATOR else 403
    )


@pytest.mark.parametrize("role", ["staff", "operator"])
@pytest.mark.parametrize("model", MERCHANT_ADMINS, ids=lambda model: model._meta.label)
def test_changelist_queries_do_not_grow_with_rows(model, role, store_a, staff_a, operator, client):
    client.force_login(staff_a if role == "staff" else operator)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url(model, "changelist")).status_code == 200
    build_store(store_a.merchant)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url(model, "changelist"))

    # one per merchant (a store has at most one account per provider; build_store opens Alipay's)
    one_per_merchant = (
        CommissionPlan,
        ProgrammeSettings,
        WithdrawalSettings,
        MemberSettings,
        ProviderAccount,
    )
    per_merchant = 1 if model in one_per_merchant else 2
    assert response.context["cl"].result_count == per_merchant * ROWS_PER_STORE[model]
    assert len(after.captured_queries) == len(before.captured_queries)


def _operator_object_id(model, store_b, staff_b):
    if model is Merchant:
        return store_b.merchant.pk
    if model is MerchantStaff:
        return staff_b.merchant_membership.pk
    if model is MerchantApplication:
        return merchant_application_submit(
            username="applicant",
            password="applicant-pass-123",
            store_name="New Store",
            slug="new-store",
            contact_name="Han Meimei",
            contact_phone="13900000000",
            contact_email="han@example.com",
        ).pk
    if model in (Supplier, SupplierStaff):
        supplier = Supplier.objects.create(name="Tea Farm", slug="tea-farm")
        if model is Supplier:
            return supplier.pk
        user = User.objects.create(username="farmer")
        return SupplierStaff.objects.create(supplier=supplier, user=user).pk
    if model is SupplierApplication:
        return supplier_application_submit(
            username="supplier-applicant",
            password="applicant-pass-123",
            company_name="Tea Farm",
            slug="tea-farm",
            categories="tea",
            contact_name="Wang Fang",
            contact_phone="13900000000",
            contact_email="wang@example.com",
            licence=SimpleUploadedFile(
                "licence.pdf", b"%PDF-1.4\n", content_type="application/pdf"
            ),
        ).pk
    if model is User:
        return staff_b.pk
    if model is Group:
        return Group.objects.create(name="auditors").pk
    if model is TokenProxy:
        return Token.objects.create(user=staff_b).user_id  # the token admin is keyed by user id
    if model is TOTPDevice:
        return TOTPDevice.objects.create(user=staff_b, name="phone").pk
    if model is LogEntry:
        return LogEntry.objects.get_for_object(store_b.merchant).earliest("pk").pk
    raise AssertionError(model)


@pytest.mark.parametrize("model", OPERATOR_ADMINS, ids=lambda model: model._meta.label)
def test_operator_only_admins_refuse_staff(model, store_b, staff_b, staff_a):
    object_id = _operator_object_id(model, store_b, staff_b)
    staff, operator = Client(), Client()
    staff.force_login(staff_a)
    operator.force_login(User.objects.create(username="root", is_staff=True, is_superuser=True))

    for path in (
        url(model, "changelist"),
        url(model, "add"),
        url(model, "change", object_id),
        url(model, "delete", object_id),
        url(model, "history", object_id),
        url(model, "change", 999_999_999),
    ):
        assert staff.get(path).status_code == 403, path
    assert staff.post(url(model, "delete", object_id), {"post": "yes"}).status_code == 403
    lookup = {"user_id": object_id} if model is TokenProxy else {"pk": object_id}
    assert model._default_manager.filter(**lookup).count() == 1

    assert operator.get(url(model, "changelist")).status_code == 200
    assert operator.get(url(model, "change", object_id)).status_code == 200
    assert operator.get(url(model, "change", 999_999_999)).status_code == 404


def test_staff_index_lists_exactly_their_modules(store_a, staff_client):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    listed = {
        (app["app_label"], model["object_name"])
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert listed == {
        ("products", "Product"),
        ("products", "Sku"),
        ("distributors", "Distributor"),
        ("distributors", "CustomerBinding"),
        ("distributors", "DistributorPrice"),
        ("orders", "Order"),
        ("payments", "Payment"),
        ("commissions", "CommissionPlan"),
        ("refunds", "RefundCase"),
        ("commissions", "CommissionOverride"),
        ("ledger", "Journal"),
        ("commissions", "CommissionRecord"),
        ("ledger", "Wallet"),
        ("ledger", "LedgerEntry"),
        ("withdrawals", "WithdrawalSettings"),
        ("withdrawals", "Withdrawal"),
        ("distributors", "ProgrammeSettings"),
        ("distributors", "DistributorApplication"),
        ("distributors", "Tier"),
        ("distributors", "TierChange"),
        ("distributors", "BindingChange"),
        ("distributors", "FraudFlag"),
        ("materials", "Material"),
        ("materials", "MaterialRead"),
        ("webhooks", "WebhookEndpoint"),
        ("webhooks", "WebhookDelivery"),
        ("dropship", "Shipment"),
        ("dropship", "CatalogueProduct"),
        ("dropship", "SupplierPayable"),
        ("marketing", "Coupon"),
        ("marketing", "CouponGrant"),
        ("marketing", "Promotion"),
        ("marketing", "FlashSale"),
        ("members", "MemberSettings"),
        ("members", "MemberLevel"),
        ("members", "MemberTag"),
        ("members", "Member"),
        ("live", "LiveRoom"),
        ("credentials", "ProviderAccount"),
        ("groupbuy", "GroupBuy"),
        ("groupbuy", "Group"),
    }
    assert staff_client.get(reverse("admin:app_list", args=["merchants"])).status_code == 404
    assert staff_client.get(reverse("admin:app_list", args=["accounts"])).status_code == 404
    assert staff_client.get(reverse("admin:app_list", args=["auth"])).status_code == 404


def test_operator_index_lists_every_module(operator_client):
    response = operator_client.get(reverse("admin:index"))

    listed = {model["model"] for app in response.context["app_list"] for model in app["models"]}
    assert listed == set(admin.site._registry)
    assert "Fenxiao back office" in response.content.decode()


def test_staff_of_a_suspended_merchant_see_nothing(store_a, staff_client):
    Merchant.objects.filter(pk=store_a.merchant.pk).update(status=Merchant.Status.SUSPENDED)

    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["app_list"] == []
    for model in MERCHANT_ADMINS:
        assert staff_client.get(url(model, "changelist")).status_code == 403
        assert (
            staff_client.get(
                url(model, "change", min(rows_of(model, store_a.merchant)))
            ).status_code
            == 404
        )
    assert staff_client.get(url(Product, "add")).status_code == 403


def test_staff_without_a_membership_see_nothing(store_a, client):
    client.force_login(User.objects.create(username="loose", is_staff=True))

    assert client.get(reverse("admin:index")).context["app_list"] == []
    assert client.get(url(Order, "changelist")).status_code == 403
