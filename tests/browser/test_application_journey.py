"""Application mode in a real Chromium: a consumer answers the store's questions on the apply page
and submits; the merchant's staff approve the application in the admin; the consumer then sees
they are a distributor with an invite code, placed under the distributor who invited them."""

import pytest
from playwright.sync_api import expect

from apps.distributors.models import Distributor, DistributorApplication
from apps.distributors.recruitment import programme_settings_update
from apps.distributors.services import distributor_join
from tests.factories import PASSWORD, UserFactory

from .test_purchase_journey import sign_in

pytestmark = [pytest.mark.browser]


def test_apply_then_approved_in_the_admin(live_server, new_page, merchant, staff_user, screenshot):
    site_url = live_server.url
    inviter = distributor_join(merchant=merchant, user=UserFactory(nickname="Inviter"))
    programme_settings_update(
        merchant=merchant,
        recruitment_mode="application",
        application_questions=["Why do you want to join?", "Where will you share?"],
    )
    applicant = UserFactory(username="applicant-lin")
    apply_path = f"/s/{merchant.slug}/d/apply/"

    # 1. The consumer opens the store through the inviter's link, then the apply page.
    consumer = new_page()
    consumer.goto(f"{site_url}/s/{merchant.slug}/?ref={inviter.invite_code}")
    sign_in(consumer, site_url, applicant, apply_path)
    form = consumer.locator('[data-test="apply-form"]')
    expect(form).to_contain_text("Why do you want to join?")
    expect(form.locator("#id_invite_code")).to_have_value(inviter.invite_code)
    form.locator("#id_answer_0").fill("I drink tea every day")
    form.locator("#id_answer_1").fill("My WeChat moments")
    screenshot(consumer, "apply-form")
    form.locator('[data-test="apply"]').click()
    consumer.wait_for_url(f"{site_url}{apply_path}")
    expect(consumer.locator('[data-test="application-status"]')).to_have_text("Pending review")
    expect(consumer.locator('[data-test="apply-form"]')).to_have_count(0)
    application = DistributorApplication.objects.get(user=applicant)

    # 2. The merchant's staff approve it in the admin.
    admin = new_page()
    change = f"/admin/distributors/distributorapplication/{application.pk}/change/"
    admin.goto(f"{site_url}{change}")
    admin.locator("#id_username").fill(staff_user.username)
    admin.locator("#id_password").fill(PASSWORD)
    admin.locator('#login-form [type="submit"]').click()
    admin.wait_for_url(f"{site_url}{change}")
    expect(admin.locator("body")).to_contain_text("I drink tea every day")
    admin.locator("#id_decision").select_option("approve")
    admin.locator('[name="_save"]').click()
    admin.wait_for_url(f"{site_url}/admin/distributors/distributorapplication/")
    screenshot(admin, "admin-approved")

    # 3. The consumer is now a distributor with an invite code, under the inviter.
    consumer.goto(f"{site_url}{apply_path}")
    consumer.wait_for_url(f"{site_url}/s/{merchant.slug}/d/")
    distributor = Distributor.objects.get(merchant=merchant, user=applicant)
    expect(consumer.locator('[data-test="invite-code"]')).to_have_text(distributor.invite_code)
    screenshot(consumer, "distributor")
    assert (distributor.parent_id, distributor.qualification) == (inviter.pk, "application")
    application.refresh_from_db()
    assert (application.status, application.reviewed_by_id) == ("approved", staff_user.pk)
