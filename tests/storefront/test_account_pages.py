"""Sign in, sign up, sign out, the merchant application (商家入驻) and its status page."""

import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.merchants.models import MerchantApplication
from apps.merchants.services import merchant_application_approve, merchant_application_reject
from tests.factories import PASSWORD, MerchantFactory, UserFactory


def test_login_honours_next(client, customer, merchant):
    next_url = f"/s/{merchant.slug}/orders/"

    page = client.get(reverse("accounts:login"), {"next": next_url})
    response = client.post(
        reverse("accounts:login"),
        {"username": customer.username, "password": PASSWORD, "next": next_url},
    )

    assert page.status_code == 200 and f'value="{next_url}"' in page.content.decode()
    assert response.status_code == 302 and response["Location"] == next_url


def test_login_refuses_an_outside_next_and_bad_passwords(client, customer):
    response = client.post(
        reverse("accounts:login"),
        {"username": customer.username, "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    client.logout()
    wrong = client.post(reverse("accounts:login"), {"username": customer.username, "password": "x"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert wrong.status_code == 200
    assert 'data-test="form-errors"' in wrong.content.decode()


def test_logout_is_post_only(signed_in):
    assert signed_in.get(reverse("accounts:logout")).status_code == 405
    response = signed_in.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in signed_in.session


def test_signup_creates_the_user_signs_in_and_follows_next(client, db):
    response = client.post(
        f"{reverse('accounts:signup')}?next=/s/some-store/",
        {"username": "carol", "password1": PASSWORD, "password2": PASSWORD, "phone": ""},
    )

    assert response.status_code == 302 and response["Location"] == "/s/some-store/"
    user = User.objects.get(username="carol")
    assert user.check_password(PASSWORD) and user.phone == "" and not user.is_staff
    assert int(client.session["_auth_user_id"]) == user.pk


def test_signup_errors_are_400_and_create_nothing(client, customer):
    mismatch = client.post(
        reverse("accounts:signup"),
        {"username": "dave", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    taken = client.post(
        reverse("accounts:signup"),
        {"username": customer.username.upper(), "password1": PASSWORD, "password2": PASSWORD},
    )

    assert mismatch.status_code == 400 and "password2" in mismatch.context["form"].errors
    assert taken.status_code == 400
    assert taken.context["form"].errors["username"] == ["That username is taken."]
    assert User.objects.count() == 1


APPLICATION = {
    "username": "tea-owner",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "store_name": "Tea House",
    "slug": "tea-house",
    "contact_name": "Wang Fang",
    "contact_phone": "13700000000",
    "contact_email": "wang@example.com",
    "description": "Tea leaves",
}


def test_apply_creates_account_and_application_and_shows_pending_status(client, db):
    page = client.get(reverse("merchants:apply"))
    response = client.post(reverse("merchants:apply"), APPLICATION)

    assert page.status_code == 200 and 'name="slug"' in page.content.decode()
    assert response.status_code == 302 and response["Location"] == reverse("merchants:apply-status")
    application = MerchantApplication.objects.get()
    assert (application.applicant.username, application.slug, application.status) == (
        "tea-owner",
        "tea-house",
        MerchantApplication.Status.PENDING,
    )
    status = client.get(reverse("merchants:apply-status"))
    assert status.status_code == 200
    assert 'data-test="application-status">Pending review<' in status.content.decode()


SLUG_RULE = "Use 3–50 lower-case letters, digits and hyphens, not starting or ending with a hyphen."


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("-bad-", SLUG_RULE),
        ("a b", SLUG_RULE),
        ("taken-store", "The store address “taken-store” is taken."),
    ],
)
def test_apply_shows_slug_errors_and_writes_nothing(client, db, slug, message):
    MerchantFactory(slug="taken-store")

    response = client.post(reverse("merchants:apply"), {**APPLICATION, "slug": slug})

    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == [message]
    assert not MerchantApplication.objects.exists()
    assert not User.objects.filter(username="tea-owner").exists()


def test_apply_with_an_email_longer_than_254_characters_is_a_form_error(client, db):
    too_long = "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com"

    response = client.post(reverse("merchants:apply"), {**APPLICATION, "contact_email": too_long})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["contact_email"]
    assert not MerchantApplication.objects.exists()


def test_apply_with_taken_username_is_a_form_error(client, customer):
    response = client.post(
        reverse("merchants:apply"), {**APPLICATION, "username": customer.username}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["username"] == ["That username is taken."]
    assert not MerchantApplication.objects.exists()


def test_status_page_after_approval_links_to_admin(client, db):
    client.post(reverse("merchants:apply"), APPLICATION)
    application = MerchantApplication.objects.get()
    merchant_application_approve(
        application_id=application.pk, reviewer=UserFactory(is_superuser=True)
    )

    content = client.get(reverse("merchants:apply-status")).content.decode()

    assert 'data-test="application-status">Approved<' in content
    assert 'href="/admin/" data-test="admin-link"' in content
    assert "/s/tea-house/" in content


def test_status_page_after_rejection_shows_the_reason(client, db):
    client.post(reverse("merchants:apply"), APPLICATION)
    application = MerchantApplication.objects.get()
    merchant_application_reject(
        application_id=application.pk, reviewer=UserFactory(), reason="Licence missing"
    )

    content = client.get(reverse("merchants:apply-status")).content.decode()

    assert 'data-test="application-status">Rejected<' in content
    assert "Licence missing" in content


def test_status_page_requires_sign_in_and_handles_no_application(client, customer):
    anonymous = client.get(reverse("merchants:apply-status"))
    client.force_login(customer)
    none = client.get(reverse("merchants:apply-status"))

    assert anonymous.status_code == 302
    assert none.status_code == 200 and none.context["application"] is None
