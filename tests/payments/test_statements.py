"""Reconciliation through the provider interface: each provider's day's statement (WeChat Pay's
trade and fund bills, Alipay's bill zip, the sandbox's books) downloaded through ``statement()``
once per day and kept, then matched against the ledger, per provider, by the finance report."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.credentials.services import payee_account_set
from apps.finance.selectors import Outcome, Period, reconciliation
from apps.payments import tasks as payment_tasks
from apps.payments.models import ProviderStatement, ProviderStatementLine
from apps.payments.providers import ProviderError
from apps.payments.providers.sandbox import SHANGHAI
from apps.payments.services import payment_start
from apps.payments.statements import statement_download, statements_download_day
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_request,
    withdrawal_settings_update,
)
from tests.factories import MerchantFactory, MerchantStaffFactory
from tests.services.flows import place
from tests.withdrawals.conftest import fund

pytestmark = pytest.mark.django_db
D = Decimal
FORM = "application/x-www-form-urlencoded"


def china_today() -> date:
    return timezone.now().astimezone(SHANGHAI).date()


def today() -> Period:
    return Period(start=timezone.localdate(), end=timezone.localdate())


def outcomes(merchant, provider):
    return sorted(
        (
            row["outcome"],
            row["kind"],
            row["reference"],
            row["provider_amount"],
            row["ledger_amount"],
        )
        for row in reconciliation(merchant=merchant, period=today()).rows
        if row["provider"] == provider
    )


# --- WeChat Pay ------------------------------------------------------------------------------------


def wechat_paid(client, merchant, customer, sku, fake):
    from apps.payments.providers import provider_get

    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    payment = payment_start(
        merchant=merchant,
        customer=customer,
        order_id=order.pk,
        provider="wechatpay",
        client_ip="203.0.113.7",
    )
    provider_get("wechatpay").checkout_url(payment)
    body, headers = fake.pay(payment.out_trade_no)
    answer = client.post(
        "/pay/notify/wechatpay/", data=body, content_type="application/json", headers=headers
    )
    assert answer.status_code == 200
    payment.refresh_from_db()
    return payment


def refund_approved(merchant, customer, payment, amount):
    """``amount`` of the payment's first line refunded: approved and sent to the provider."""
    case = refund_request(
        merchant=merchant,
        customer=customer,
        order_id=payment.order_id,
        kind="amount",
        reason="scratched",
        lines=[RefundLineRequest(payment.order.lines.first().pk, amount=amount)],
    )
    return refund_approve(merchant=merchant, case_id=case.pk, actor=None)


def wechat_refunded(client, merchant, customer, payment, fake, amount):
    case = refund_approved(merchant, customer, payment, amount)
    body, headers = fake.refund_notification(case.idempotency_key)
    answer = client.post(
        "/pay/refund-notify/wechatpay/", data=body, content_type="application/json", headers=headers
    )
    assert answer.status_code == 200
    return case


def paid_out(merchant, distributor, provider, amount):
    fund(distributor, D("100.00"))
    withdrawal_settings_update(merchant=merchant, payout_provider=provider, review_required=True)
    payee_account_set(distributor=distributor, provider=provider, account="oPayee-or-login@x")
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount=amount, account=""
    )
    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=None)
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == Withdrawal.Status.PAID
    withdrawal.refresh_from_db()
    return withdrawal


def test_the_wechat_bills_match_the_ledger_payment_refund_and_payout(
    client, merchant, customer, sku, chain, wechat_account, wechat_fake
):
    payment = wechat_paid(client, merchant, customer, sku, wechat_fake)
    case = wechat_refunded(client, merchant, customer, payment, wechat_fake, D("1.00"))
    withdrawal = paid_out(merchant, chain[3], "wechatpay", D("20.00"))

    statement = statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())

    assert statement.line_count == 3
    assert sorted(
        ProviderStatementLine.objects.filter(statement=statement).values_list("kind", "amount")
    ) == [("payment", payment.amount), ("payout", withdrawal.net), ("refund", D("1.00"))]
    # The fund bill lists the transfer by its out_bill_no (letters and digits of the key).
    assert outcomes(merchant, "wechatpay") == [
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (
            Outcome.MATCHED,
            "Payout",
            withdrawal.idempotency_key.replace("_", "")[:32],
            withdrawal.net,
            withdrawal.net,
        ),
        (Outcome.MATCHED, "Refund", case.idempotency_key, D("1.00"), D("1.00")),
    ]


def test_a_wrong_amount_and_an_unknown_trade_on_the_wechat_bill_are_reported(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    payment = wechat_paid(client, merchant, customer, sku, wechat_fake)
    now = timezone.now().astimezone(SHANGHAI).isoformat(timespec="seconds")
    wechat_fake.state.bill_amounts[payment.out_trade_no] = int(payment.amount * 100) - 1
    wechat_fake.state.bill_unknown_trades.append(("FXNOBODY1", 4200, now))

    statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())

    assert outcomes(merchant, "wechatpay") == [
        (
            Outcome.AMOUNT_MISMATCH,
            "Payment",
            payment.out_trade_no,
            payment.amount - D("0.01"),
            payment.amount,
        ),
        (Outcome.MISSING_IN_LEDGER, "Payment", "FXNOBODY1", D("42.00"), None),
    ]


def test_a_payment_the_wechat_bill_does_not_list_is_missing_at_the_provider(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    payment = wechat_paid(client, merchant, customer, sku, wechat_fake)
    del wechat_fake.state.orders[payment.out_trade_no]

    statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())

    assert outcomes(merchant, "wechatpay") == [
        (Outcome.MISSING_AT_PROVIDER, "Payment", payment.out_trade_no, None, payment.amount)
    ]


def test_until_the_days_bill_is_downloaded_nothing_is_reported_missing_there(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    wechat_paid(client, merchant, customer, sku, wechat_fake)

    found = reconciliation(merchant=merchant, period=today())

    assert [row for row in found.rows if row["provider"] == "wechatpay"] == []
    assert found.statements_missing == {"wechatpay": [timezone.localdate()]}


def test_a_days_statement_is_downloaded_once(merchant, wechat_account, wechat_fake):
    first = statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())
    asked = len(wechat_fake.state.requests)

    again = statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())

    assert again.pk == first.pk
    assert len(wechat_fake.state.requests) == asked
    assert ProviderStatement.objects.filter(merchant=merchant).count() == 1


def test_a_provider_that_cannot_give_its_bill_stores_nothing_and_is_asked_again(
    merchant, wechat_account, wechat_fake
):
    wechat_fake.fail_next("5xx")

    with pytest.raises(ProviderError):
        statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())
    assert not ProviderStatement.objects.filter(provider="wechatpay").exists()

    stored = statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())
    assert stored.line_count == 0


# --- Alipay ----------------------------------------------------------------------------------------


def alipay_paid(client, merchant, customer, sku, fake):
    import httpx

    from apps.payments.providers import provider_get

    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    payment = payment_start(
        merchant=merchant, customer=customer, order_id=order.pk, provider="alipay"
    )
    assert httpx.get(provider_get("alipay").checkout_url(payment)).status_code == 200
    answer = client.post("/pay/notify/alipay/", fake.pay(payment.out_trade_no), content_type=FORM)
    assert answer.content == b"success"
    payment.refresh_from_db()
    return payment


def alipay_refunded(client, merchant, customer, payment, fake, amount):
    case = refund_approved(merchant, customer, payment, amount)
    notice = fake.refund_notification(payment.out_trade_no, case.idempotency_key)
    assert client.post("/pay/notify/alipay/", notice, content_type=FORM).content == b"success"
    return case


def test_the_alipay_bill_matches_the_ledger_and_reports_a_wrong_amount_and_an_unknown_trade(
    client, merchant, customer, sku, alipay_account, alipay_fake
):
    payment = alipay_paid(client, merchant, customer, sku, alipay_fake)
    case = alipay_refunded(client, merchant, customer, payment, alipay_fake, D("1.00"))
    other = alipay_paid(client, merchant, customer, sku, alipay_fake)
    alipay_fake.state.bill_amounts[other.out_trade_no] = "0.01"
    now = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    alipay_fake.state.bill_unknown_trades.append(("FXNOBODY2", "9.99", now))

    statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert outcomes(merchant, "alipay") == [
        (Outcome.AMOUNT_MISMATCH, "Payment", other.out_trade_no, D("0.01"), other.amount),
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (Outcome.MATCHED, "Refund", case.idempotency_key, D("1.00"), D("1.00")),
        (Outcome.MISSING_IN_LEDGER, "Payment", "FXNOBODY2", D("9.99"), None),
    ]


def alipay_split(payment, fake, amount, receiver="platform", account="2088000000000001"):
    """A royalty settlement of ``amount`` to the platform (or ``receiver``) for the payment."""
    from apps.payments.models import PaymentSplit
    from apps.payments.providers import SplitReceiver, provider_get

    split = PaymentSplit.objects.create(
        merchant=payment.merchant,
        payment=payment,
        receiver=receiver,
        amount=amount,
        idempotency_key=f"SPL-{payment.out_trade_no}-{receiver}",
    )
    provider_get("alipay").split(
        payment,
        [SplitReceiver(receiver=receiver, account=account, amount=amount)],
        split.idempotency_key,
    )
    return split


def test_the_alipay_account_bill_matches_a_royalty_split_and_a_transfer(
    client, merchant, customer, sku, chain, alipay_account, alipay_fake
):
    payment = alipay_paid(client, merchant, customer, sku, alipay_fake)
    split = alipay_split(payment, alipay_fake, D("0.30"))
    withdrawal = paid_out(merchant, chain[3], "alipay", D("20.00"))

    statement = statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert sorted(
        ProviderStatementLine.objects.filter(statement=statement).values_list(
            "kind", "reference", "amount"
        )
    ) == [
        ("payment", payment.out_trade_no, payment.amount),
        ("payout", withdrawal.idempotency_key, withdrawal.net),
        # The account bill names a royalty by the trade it splits (its 商户订单号).
        ("split", payment.out_trade_no, D("0.30")),
    ]
    assert outcomes(merchant, "alipay") == [
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (Outcome.MATCHED, "Payout", withdrawal.idempotency_key, withdrawal.net, withdrawal.net),
        (Outcome.MATCHED, "Split", split.idempotency_key, D("0.30"), D("0.30")),
    ]


def test_two_royalty_shares_of_one_trade_are_told_apart_by_amount(
    client, merchant, customer, sku, alipay_account, alipay_fake
):
    """The account bill names both shares by the trade: each bill row takes the split row of its
    amount, a wrong amount is reported against the row left, a royalty of a trade Fenxiao never
    made is missing in the ledger."""
    payment = alipay_paid(client, merchant, customer, sku, alipay_fake)
    merchants_share = alipay_split(payment, alipay_fake, D("0.20"), "merchant", "2088000000000002")
    platforms_share = alipay_split(payment, alipay_fake, D("0.30"))
    # The bill shows the first settlement (the merchant's share) with a wrong amount.
    alipay_fake.state.account_bill_amounts[merchants_share.idempotency_key] = "0.21"
    now = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    alipay_fake.state.account_bill_unknown.append(("交易分账", "FXNOBODY3", "0.40", now))

    statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert outcomes(merchant, "alipay") == [
        (
            Outcome.AMOUNT_MISMATCH,
            "Split",
            merchants_share.idempotency_key,
            D("0.21"),
            D("0.20"),
        ),
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (Outcome.MATCHED, "Split", platforms_share.idempotency_key, D("0.30"), D("0.30")),
        (Outcome.MISSING_IN_LEDGER, "Split", "FXNOBODY3", D("0.40"), None),
    ]


def test_a_distributors_royalty_share_is_matched_with_its_ledger_movement(
    client, merchant, customer, sku, chain, alipay_account, alipay_fake
):
    from apps.ledger.posting import ledger_post_split_payout
    from apps.payments.models import PaymentSplit
    from apps.payments.providers import SplitReceiver, provider_get

    payment = alipay_paid(client, merchant, customer, sku, alipay_fake)
    distributor = chain[3]
    fund(distributor, D("1.00"))
    split = PaymentSplit.objects.create(
        merchant=merchant,
        payment=payment,
        receiver=PaymentSplit.Receiver.DISTRIBUTOR,
        distributor=distributor,
        amount=D("0.50"),
        idempotency_key=f"SPL-{payment.out_trade_no}-d{distributor.pk}",
    )
    ledger_post_split_payout(
        merchant_id=merchant.pk,
        split_key=split.idempotency_key,
        order_id=payment.order_id,
        payment_id=payment.pk,
        distributor_id=distributor.pk,
        amount=split.amount,
    )
    provider_get("alipay").split(
        payment,
        [SplitReceiver(receiver="distributor", account="d1@example.com", amount=split.amount)],
        split.idempotency_key,
    )

    statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert outcomes(merchant, "alipay") == [
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (Outcome.MATCHED, "Split", split.idempotency_key, D("0.50"), D("0.50")),
    ]


def test_a_wrong_amount_and_an_unknown_row_on_the_alipay_account_bill_are_reported(
    client, merchant, customer, sku, chain, alipay_account, alipay_fake
):
    payment = alipay_paid(client, merchant, customer, sku, alipay_fake)
    split = alipay_split(payment, alipay_fake, D("0.30"))
    withdrawal = paid_out(merchant, chain[3], "alipay", D("20.00"))
    alipay_fake.state.account_bill_amounts[split.idempotency_key] = "0.31"
    alipay_fake.state.account_bill_amounts[withdrawal.idempotency_key] = "19.00"
    now = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    alipay_fake.state.account_bill_unknown.append(("转账", "WD-NOBODY", "5.00", now))

    statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert outcomes(merchant, "alipay") == [
        (Outcome.AMOUNT_MISMATCH, "Payout", withdrawal.idempotency_key, D("19.00"), withdrawal.net),
        (Outcome.AMOUNT_MISMATCH, "Split", split.idempotency_key, D("0.31"), D("0.30")),
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
        (Outcome.MISSING_IN_LEDGER, "Payout", "WD-NOBODY", D("5.00"), None),
    ]


def test_a_transfer_the_alipay_account_bill_does_not_list_is_missing_at_the_provider(
    merchant, chain, alipay_account, alipay_fake
):
    withdrawal = paid_out(merchant, chain[3], "alipay", D("20.00"))
    del alipay_fake.state.transfers[withdrawal.idempotency_key]

    statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())

    assert outcomes(merchant, "alipay") == [
        (Outcome.MISSING_AT_PROVIDER, "Payout", withdrawal.idempotency_key, None, withdrawal.net)
    ]


def test_an_alipay_account_bill_that_does_not_parse_stores_nothing(
    merchant, alipay_account, alipay_fake, monkeypatch
):
    monkeypatch.setattr(type(alipay_fake), "account_bill_zip", lambda self, day: b"not a zip")

    with pytest.raises(ProviderError):
        statement_download(merchant_id=merchant.pk, provider="alipay", day=china_today())
    assert not ProviderStatement.objects.filter(provider="alipay").exists()


# --- beat, the report, tenancy -------------------------------------------------------------------


def test_beat_downloads_yesterdays_statement_of_every_merchant_and_provider_once(
    merchant, wechat_account, wechat_fake, monkeypatch
):
    other = MerchantFactory()
    yesterday = china_today() - timedelta(days=1)

    first = payment_tasks.statements_download()
    again = payment_tasks.statements_download()

    stored = set(ProviderStatement.objects.values_list("merchant_id", "provider", "day"))
    assert (merchant.pk, "wechatpay", yesterday) in stored
    assert (merchant.pk, "sandbox", yesterday) in stored
    assert (other.pk, "sandbox", yesterday) in stored
    assert (other.pk, "wechatpay", yesterday) not in stored
    assert first["failed"] == 0
    assert again == {"stored": first["stored"], "failed": 0}
    assert ProviderStatement.objects.count() == len(stored) == first["stored"]


def test_beat_counts_a_provider_it_could_not_ask_and_stores_it_next_time(
    merchant, wechat_account, wechat_fake
):
    day = china_today() - timedelta(days=1)
    wechat_fake.fail_next("5xx")

    assert statements_download_day(day=day)["failed"] == 1
    assert statements_download_day(day=day)["failed"] == 0
    assert ProviderStatement.objects.filter(provider="wechatpay", day=day).count() == 1


def test_the_finance_report_shows_each_providers_mismatches(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    payment = wechat_paid(client, merchant, customer, sku, wechat_fake)
    wechat_fake.state.bill_amounts[payment.out_trade_no] = 1
    statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())
    client.force_login(MerchantStaffFactory(merchant=merchant).user)

    report = client.get(
        reverse("finance:reconciliation"),
        {"start": str(timezone.localdate()), "end": str(timezone.localdate())},
    ).context["report"]

    assert [(row["outcome"], row["provider"], row["reference"]) for row in report.rows] == [
        ("Amount mismatch", "WeChat Pay", payment.out_trade_no)
    ]
    assert "WeChat Pay: Amount mismatch 1" in report.notes


def test_another_merchants_statements_are_not_in_the_report(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    wechat_fake.state.bill_unknown_trades.append(
        ("FXNOBODY3", 100, timezone.now().astimezone(SHANGHAI).isoformat(timespec="seconds"))
    )
    statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())
    other = MerchantFactory()

    assert reconciliation(merchant=other, period=today()).rows == []
    assert [row["reference"] for row in outcomes_rows(merchant)] == ["FXNOBODY3"]


def outcomes_rows(merchant):
    return reconciliation(merchant=merchant, period=today()).rows


def test_a_split_on_the_wechat_fund_bill_is_matched_with_its_split_row(
    client, merchant, customer, sku, wechat_account, wechat_fake
):
    from apps.payments.models import PaymentSplit
    from apps.payments.providers import SplitReceiver, provider_get

    payment = wechat_paid(client, merchant, customer, sku, wechat_fake)
    fee = PaymentSplit.objects.create(
        merchant=merchant,
        payment=payment,
        receiver=PaymentSplit.Receiver.PLATFORM,
        amount=D("0.30"),
        idempotency_key=f"SPL-{payment.out_trade_no}-platform",
    )
    provider_get("wechatpay").split(
        payment,
        [SplitReceiver(receiver="platform", account="1900000001", amount=fee.amount)],
        fee.idempotency_key,
    )
    wechat_fake.state.bill_amounts[fee.idempotency_key] = 31  # the bill says 0.31

    statement_download(merchant_id=merchant.pk, provider="wechatpay", day=china_today())

    assert outcomes(merchant, "wechatpay") == [
        (Outcome.AMOUNT_MISMATCH, "Split", fee.idempotency_key, D("0.31"), D("0.30")),
        (Outcome.MATCHED, "Payment", payment.out_trade_no, payment.amount, payment.amount),
    ]
