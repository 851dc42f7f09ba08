"""Recipients' names, phones and addresses are encrypted at rest, found by a blind index, masked for
staff who may not see them, and re-encrypted by key rotation."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import USER_PHONE, User
from apps.core import crypto
from apps.core.personal import phone_index
from apps.merchants.models import MerchantStaff
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
