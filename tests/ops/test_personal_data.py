"""Recipients' names, phones and addresses are encrypted at rest, found by a blind index, masked for
staff who may not see them, and re-encrypted by key rotation."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import USER_PHONE, User
from apps.core import crypto
from apps.core.personal import phone_index
from apps.merchants.models import MerchantStaff
from apps.merchants.selectors import staff_may_see_phones
from apps.orders.models import Order
from apps.orders.services import Recipient, order_place
from tests.factories import MerchantStaffFactory

PHONE = "13812345678"


@pytest.fixture
def order(merchant, sku, customer):
    recipient = Recipient(name="韩梅梅", phone=PHONE, address="上海市南京路 1 号")
    return order_place(
        merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=recipient
    )


def stored(order_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient_name, recipient_phone, shipping_address, recipient_phone_index"
            " FROM orders_order WHERE id = %s",
            [order_id],
        )
        return cursor.fetchone()


def test_the_database_holds_only_ciphertext(order):
    name, phone, address, index = stored(order.pk)

    assert PHONE not in phone and "韩梅梅" not in name and "南京路" not in address
    assert (crypto.decrypt(name), crypto.decrypt(phone), crypto.decrypt(address)) == (
        "韩梅梅",
        PHONE,
        "上海市南京路 1 号",
    )
    assert len(index) == 64 and PHONE not in index
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.recipient_name, fresh.recipient_phone) == ("韩梅梅", PHONE)


def changelist(user, **params):
    client = Client()
    client.force_login(user)
    return client.get(reverse("admin:orders_order_changelist"), params)


def test_staff_see_phones_masked_owners_in_full(merchant, order):
    staff = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    owner = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.OWNER).user

    masked = changelist(staff).content.decode()
    full = changelist(owner).content.decode()

    assert "138****5678" in masked and PHONE not in masked
    assert PHONE in full


def staff_with_phone_permission(merchant):
    user = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    user.user_permissions.add(
        Permission.objects.get(codename="view_phone_numbers", content_type__app_label="merchants")
    )
    return User.objects.get(pk=user.pk)  # a fresh object: no cached permissions


def test_staff_holding_the_permission_see_phones_in_full(merchant, order):
    permitted = staff_with_phone_permission(merchant)
    through_group = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    group = Group.objects.create(name="客服")
    group.permissions.add(Permission.objects.get(codename="view_phone_numbers"))
    through_group.groups.add(group)

    assert PHONE in changelist(permitted).content.decode()
    assert PHONE in changelist(through_group).content.decode()
    assert staff_may_see_phones(User.objects.get(pk=through_group.pk))


def order_page(user, order):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_order_page_masks_the_phone_too(merchant, order):
    staff = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user

    masked = order_page(staff, order)
    full = order_page(staff_with_phone_permission(merchant), order)

    assert "138****5678" in masked and PHONE not in masked
    assert "韩梅梅" in masked  # only the phone is hidden
    assert PHONE in full and "138****5678" not in full


def api_order(user, order):
    client = APIClient()
    client.force_authenticate(user)
    listed = client.get(reverse("api:merchant-order-list")).json()["results"]
    detail = client.get(reverse("api:merchant-order-detail", kwargs={"pk": order.pk})).json()
    return [row["recipient_phone"] for row in listed], detail["recipient_phone"]


def test_the_merchant_api_masks_phones_for_staff_without_the_permission(merchant, order):
    staff = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    owner = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.OWNER).user

    assert api_order(staff, order) == (["138****5678"], "138****5678")
    assert api_order(owner, order) == ([PHONE], PHONE)
    assert api_order(staff_with_phone_permission(merchant), order) == ([PHONE], PHONE)


def test_the_permission_of_another_kind_does_not_unmask(merchant, order):
    staff = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))

    assert api_order(User.objects.get(pk=staff.pk), order) == (["138****5678"], "138****5678")


def test_staff_find_an_order_by_the_phone_however_it_is_written(merchant, order):
    owner = MerchantStaffFactory(merchant=merchant).user

    found = changelist(owner, q="+86 138-1234-5678")
    other = changelist(owner, q="13900000000")

    assert [o.pk for o in found.context["cl"].result_list] == [order.pk]
    assert list(other.context["cl"].result_list) == []


def test_rotation_re_encrypts_under_the_new_key(settings, order):
    old = settings.FENXIAO_ENCRYPTION_KEYS
    new = crypto.generate_key()
    settings.FENXIAO_ENCRYPTION_KEYS = f"{new},{old}"

    call_command("encryption_keys", "rotate", stdout=io.StringIO())

    name, phone, address, _index = stored(order.pk)
    settings.FENXIAO_ENCRYPTION_KEYS = new  # the old key is gone: everything still opens
    assert (crypto.decrypt(phone), crypto.decrypt(address)) == (PHONE, "上海市南京路 1 号")
    assert Order.objects.get(pk=order.pk).recipient_name == "韩梅梅"


def test_members_phones_are_encrypted_and_found_by_their_index(merchant):
    from apps.distributors.recruitment import user_find_for_appointment
    from tests.factories import UserFactory

    user = UserFactory(phone="13955556666")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_index FROM accounts_user WHERE id = %s", [user.pk])
        token, index = cursor.fetchone()

    assert "13955556666" not in token and crypto.decrypt(token) == "13955556666"
    assert index == phone_index("139 5555 6666", purpose=USER_PHONE)
    assert user_find_for_appointment(lookup="13955556666") == user


def test_signing_up_with_a_phone_indexes_it(db, client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "lily",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
            "phone": "13977778888",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(
        phone_index=phone_index("13977778888", purpose=USER_PHONE)
    ).username == ("lily")


def test_every_admin_search_answers_a_phone_without_an_error(db, merchant, order):
    """An encrypted column in ``search_fields`` is a 500 (its lookups raise): every admin list
    with a search box takes a phone number, as the operator and as a merchant's staff."""
    from django.contrib import admin

    from tests.factories import UserFactory

    operator = UserFactory(is_staff=True, is_superuser=True)
    staff = MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user
    searched = 0
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for user in (operator, staff):
            client = Client(raise_request_exception=False)
            client.force_login(user)
            response = client.get(url, {"q": "+86 138-1234-5678"})
            assert response.status_code in (200, 403), (url, user, response.status_code)
        searched += 1
    assert searched >= 20
