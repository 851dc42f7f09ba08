"""Withdrawals paid through the merchant's real provider (WeChat Pay / Alipay transfers, against
the fakes) to the distributor's saved payout account, and the distributor's payout-account page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.credentials.models import PayeeAccount
from apps.credentials.services import payee_account_set
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import (
    WithdrawalSettingsInvalid,
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_request,
    withdrawal_settings_update,
)
from tests.withdrawals.conftest import fund

D = Decimal


@pytest.fixture
def distributor(chain):
    fund(chain[3], D("100.00"))
    return chain[3]


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_a_withdrawal_pays_out_through_the_real_providers_transfer(
    request, merchant, distributor, provider
):
    fake = request.getfixturevalue(f"{provider}_fake" if provider == "alipay" else "wechat_fake")
    request.getfixturevalue("alipay_account" if provider == "alipay" else "wechat_account")
    withdrawal_settings_update(merchant=merchant, payout_provider=provider, review_required=True)
    payee_account_set(distributor=distributor, provider=provider, account="oPayee-or-login@x")

    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount=D("20.00"), account=""
    )
    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=None)
    status = withdrawal_pay(withdrawal_id=withdrawal.pk)

    assert status == Withdrawal.Status.PAID
    withdrawal.refresh_from_db()
    assert withdrawal.payout_provider == provider
    assert withdrawal.payout_account == "oPayee-or-login@x"
    transfers = fake.state.transfers
    assert len(transfers) == 1
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == Withdrawal.Status.PAID
    assert len(transfers) == 1


def test_a_real_payout_method_needs_the_stores_account_first(merchant):
    with pytest.raises(WithdrawalSettingsInvalid, match="account with this provider"):
        withdrawal_settings_update(merchant=merchant, payout_provider="wechatpay")


def test_a_refused_transfer_fails_the_withdrawal_and_returns_the_money(
    merchant, distributor, wechat_account, wechat_fake
):
    withdrawal_settings_update(merchant=merchant, payout_provider="wechatpay", review_required=True)
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount=D("20.00"), account="fail-openid"
    )
    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=None)

    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == Withdrawal.Status.FAILED
    assert wechat_fake.state.transfers == {}


def test_the_distributor_saves_a_payout_account_shown_back_masked(client, merchant, distributor):
    client.force_login(distributor.user)
    url = reverse("storefront:distributor-payout-account", kwargs={"slug": merchant.slug})

    saved = client.post(url, {"account": "13800001234", "real_name": "王五"})
    page = client.get(url).content.decode()

    assert saved.status_code == 302
    assert "13*******34" in page
    assert "13800001234" not in page
    payee = PayeeAccount.objects.get(distributor=distributor)
    assert (payee.provider, payee.account, payee.real_name) == ("sandbox", "13800001234", "王五")


def test_the_payout_account_page_refuses_an_empty_account(client, merchant, distributor):
    client.force_login(distributor.user)
    url = reverse("storefront:distributor-payout-account", kwargs={"slug": merchant.slug})

    answer = client.post(url, {"account": ""})

    assert answer.status_code == 400
    assert PayeeAccount.objects.count() == 0
