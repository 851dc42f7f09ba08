"""The withdrawal journey in a real Chromium: a distributor previews fee, tax and net, confirms;
the merchant's staff approve in the admin; a real Celery worker pays out through the sandbox; the
distributor sees it paid. A second request, to an account the sandbox refuses, is rejected with a
reason first and the money comes back."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.distributors.services import distributor_join
from apps.ledger.models import Wallet
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from tests.factories import PASSWORD, UserFactory
from tests.withdrawals.conftest import fund

from .test_purchase_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker]

D = Decimal


def test_a_distributor_withdraws_and_staff_approve(
    live_server, site_url, celery_worker, new_page, screenshot, merchant, staff_user
):
    WithdrawalSettings.objects.create(
        merchant=merchant,
        minimum_amount=D("10.00"),
        fee_percent=D("1.50"),
        fee_free_amount=D("100.00"),
        tax_percent=D("20.00"),
        tax_threshold=D("800.00"),
    )
    distributor = distributor_join(merchant=merchant, user=UserFactory(username="dist-wang"))
    fund(distributor, D("1500.00"))
    withdrawals_path = f"/s/{merchant.slug}/d/withdrawals/"

    # 1. The distributor asks for ¥1000.00 and sees what it costs before confirming.
    page = new_page()
    sign_in(page, site_url, distributor.user, withdrawals_path)
    expect(page.locator('[data-test="withdrawable"]')).to_have_text("¥1500.00")
    page.locator("#id_amount").fill("1000.00")
    page.locator("#id_account").fill("alipay:wang")
    page.locator('[data-test="preview-withdrawal"]').click()
    expect(page.locator('[data-test="quote-fee"]')).to_have_text("−¥13.50")
    expect(page.locator('[data-test="quote-tax"]')).to_have_text("−¥40.00")
    expect(page.locator('[data-test="quote-net"]')).to_have_text("¥946.50")
    screenshot(page, "preview")
    page.locator('[data-test="confirm-withdrawal"]').click()
    page.wait_for_url(f"{site_url}{withdrawals_path}")
    expect(page.locator('[data-test="withdrawal-status"]')).to_have_text("Waiting for review")
    expect(page.locator('[data-test="withdrawable"]')).to_have_text("¥500.00")
    withdrawal = Withdrawal.objects.get()

    # 2. Staff approve it in the admin; the worker pays it out.
    admin = new_page()
    change = f"/admin/withdrawals/withdrawal/{withdrawal.pk}/change/"
    admin.goto(f"{site_url}{change}")
    admin.locator("#id_username").fill(staff_user.username)
    admin.locator("#id_password").fill(PASSWORD)
    admin.locator('#login-form [type="submit"]').click()
    admin.wait_for_url(f"{site_url}{change}")
    admin.locator('[data-test="approve"]').click()
    admin.wait_for_url(f"{site_url}{change}")
    expect(admin.locator("ul.messagelist")).to_contain_text("1 withdrawal(s) approved")
    screenshot(admin, "approved")

    # 3. The distributor sees it paid (reloading while the worker pays it out).
    celery_worker.wait_until(
        lambda: Withdrawal.objects.get(pk=withdrawal.pk).status == "paid",
        message="the worker paid the withdrawal out",
    )
    page.reload()
    expect(page.locator('[data-test="withdrawal-status"]')).to_have_text("Paid")
    expect(page.locator('[data-test="wallet-withdrawn"]')).to_have_text("¥946.50")
    screenshot(page, "paid")

    # 4. A second request is rejected with a reason: the money comes back.
    page.locator("#id_amount").fill("200.00")
    page.locator("#id_account").fill("alipay:wrong")
    page.locator('[data-test="preview-withdrawal"]').click()
    page.locator('[data-test="confirm-withdrawal"]').click()
    page.wait_for_url(f"{site_url}{withdrawals_path}")
    second = Withdrawal.objects.latest("id")
    admin.goto(f"{site_url}/admin/withdrawals/withdrawal/{second.pk}/change/")
    admin.locator('[data-test="reject"]').click()
    admin.locator("#id_reason").fill("The account name does not match")
    admin.locator('.submit-row [type="submit"]').click()
    expect(admin.locator("ul.messagelist")).to_contain_text("rejected")
    page.reload()
    expect(page.locator('[data-test="withdrawal-reason"]').first).to_have_text(
        "Reason: The account name does not match"
    )
    expect(page.locator('[data-test="withdrawable"]')).to_have_text("¥500.00")
    wallet = Wallet.objects.get(distributor=distributor)
    assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (
        D("500.00"),
        D("0.00"),
        D("946.50"),
    )
