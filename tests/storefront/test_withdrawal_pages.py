"""The distributor's withdrawal page: balance and rules, a quote before confirming, errors inline,
history with statuses and reasons."""

from decimal import Decimal

import pytest

from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import withdrawal_reject, withdrawal_request
from tests.factories import MerchantFactory
from tests.withdrawals.conftest import balances, fund

pytestmark = pytest.mark.django_db

D = Decimal
PAGE_QUERIES = 8  # store, user (the session is cached), distributor, settings, payout account,
# wallet, count, withdrawals


@pytest.fixture
def rules(merchant):
    return WithdrawalSettings.objects.create(
        merchant=merchant,
        minimum_amount=D("10.00"),
        fee_percent=D("1.50"),
        fee_free_amount=D("100.00"),
        tax_percent=D("20.00"),
        tax_threshold=D("800.00"),
    )


@pytest.fixture
def funded(distributor):
    fund(distributor, D("1500.00"))
    return distributor


def test_the_page_shows_balance_and_rules(distributor_client, store_url, rules, funded):
    response = distributor_client.get(store_url("distributor-withdrawals"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-test="withdrawable">¥1500.00<' in page
    assert 'data-test="rule-minimum">¥10.00<' in page
    assert "1.50% of the part above ¥100.00" in page
    assert "20.00% of the part of a withdrawal above ¥800.00" in page
    assert 'data-test="debt"' not in page


def test_a_debt_is_shown_as_carried(distributor_client, store_url, rules, distributor):
    fund(distributor, D("-12.34"))

    page = distributor_client.get(store_url("distributor-withdrawals")).content.decode()

    assert 'data-test="withdrawable">¥0.00<' in page
    assert "You owe ¥12.34" in page


def test_preview_shows_fee_tax_and_net_and_writes_nothing(
    distributor_client, store_url, rules, funded
):
    response = distributor_client.post(
        store_url("distributor-withdrawals"),
        {"amount": "1234.56", "account": "alipay:li", "preview": "1"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-test="quote-fee">−¥17.01<' in page
    assert 'data-test="quote-tax">−¥86.91<' in page
    assert 'data-test="quote-net">¥1130.64<' in page
    assert 'data-test="confirm-withdrawal"' in page
    assert Withdrawal.objects.count() == 0


def test_confirm_requests_the_withdrawal(distributor_client, store_url, rules, funded):
    response = distributor_client.post(
        store_url("distributor-withdrawals"),
        {"amount": "1000.00", "account": "alipay:li", "confirm": "1"},
        follow=True,
    )

    assert response.redirect_chain == [(store_url("distributor-withdrawals"), 302)]
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.amount, withdrawal.net, withdrawal.payout_account) == (
        D("1000.00"),
        D("946.50"),
        "alipay:li",
    )
    assert balances(funded) == (D("500.00"), D("1000.00"), D("0.00"))
    page = response.content.decode()
    assert "Withdrawal requested." in page
    assert 'data-test="withdrawal-status">Waiting for review<' in page


def test_a_double_click_on_confirm_makes_one_withdrawal(
    distributor_client, store_url, rules, funded
):
    preview = distributor_client.post(
        store_url("distributor-withdrawals"),
        {"amount": "100.00", "account": "alipay:li", "preview": "1"},
    )
    token = preview.context["request_token"]
    assert f'name="request_token" value="{token}"' in preview.content.decode()

    for _ in range(2):
        response = distributor_client.post(
            store_url("distributor-withdrawals"),
            {"amount": "100.00", "account": "alipay:li", "request_token": token, "confirm": "1"},
        )
        assert response.status_code == 302

    assert Withdrawal.objects.count() == 1
    assert balances(funded) == (D("1400.00"), D("100.00"), D("0.00"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "9.99", "account": "a"}, "amount", "The minimum withdrawal is ¥10.00."),
        ({"amount": "1500.01", "account": "a"}, "amount", "You can withdraw at most ¥1500.00."),
        ({"amount": "abc", "account": "a"}, "amount", "Enter a number."),
        ({"amount": "10.00", "account": ""}, "account", "This field is required."),
    ],
)
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_errors_show_inline_and_nothing_is_written(
    distributor_client, store_url, rules, funded, data, field, message, step
):
    response = distributor_client.post(store_url("distributor-withdrawals"), {**data, step: "1"})

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert f'data-test="error-{field}"' in response.content.decode()
    assert Withdrawal.objects.count() == 0
    assert balances(funded) == (D("1500.00"), D("0.00"), D("0.00"))


def test_history_shows_the_reason_of_a_rejection(
    distributor_client, store_url, merchant, staff_user, rules, funded
):
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=funded, amount="100.00", account="alipay:li"
    )
    withdrawal_reject(
        merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user, reason="Wrong name"
    )

    page = distributor_client.get(store_url("distributor-withdrawals")).content.decode()

    assert 'data-test="withdrawal-status">Rejected<' in page
    assert 'data-test="withdrawal-reason">Reason: Wrong name<' in page


def test_only_own_withdrawals_are_listed(
    distributor_client, store_url, merchant, rules, funded, chain
):
    fund(chain[3], D("100.00"))
    withdrawal_request(merchant=merchant, distributor=chain[3], amount="50.00", account="x")
    mine = withdrawal_request(merchant=merchant, distributor=funded, amount="20.00", account="y")

    response = distributor_client.get(store_url("distributor-withdrawals"))

    assert [row.pk for row in response.context["page"].object_list] == [mine.pk]


def test_not_a_distributor_here_goes_to_join(distributor_client, funded):
    other = MerchantFactory()
    response = distributor_client.get(f"/s/{other.slug}/d/withdrawals/")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{other.slug}/d/join/"


@pytest.mark.parametrize("count", [1, 8])
def test_query_count_does_not_grow(
    distributor_client, store_url, merchant, rules, funded, django_assert_num_queries, count
):
    for _ in range(count):
        withdrawal_request(merchant=merchant, distributor=funded, amount="10.00", account="y")

    with django_assert_num_queries(PAGE_QUERIES):
        response = distributor_client.get(store_url("distributor-withdrawals"))

    assert len(response.context["page"].object_list) == count


def test_the_earnings_page_shows_money_being_withdrawn_and_links_here(
    distributor_client, store_url, merchant, rules, funded
):
    withdrawal_request(merchant=merchant, distributor=funded, amount="300.00", account="y")

    page = distributor_client.get(store_url("distributor-earnings")).content.decode()

    assert 'data-test="wallet-withdrawing">¥300.00<' in page
    assert 'data-test="wallet-available">¥1200.00<' in page
    assert f'href="{store_url("distributor-withdrawals")}" data-test="withdraw-link"' in page
