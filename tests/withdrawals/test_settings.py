"""Withdrawal settings: each value checked, fee + tax below 100 %, the row updated in place."""

from decimal import Decimal

import pytest

from apps.withdrawals.models import WithdrawalSettings
from apps.withdrawals.selectors import withdrawal_settings_for
from apps.withdrawals.services import (
    WithdrawalSettingsInvalid,
    withdrawal_settings_check,
    withdrawal_settings_update,
)

D = Decimal

VALID = {
    "minimum_amount": "10.00",
    "fee_percent": "1.50",
    "fee_free_amount": "100.00",
    "tax_percent": "20.00",
    "tax_threshold": "800.00",
    "payout_provider": "sandbox",
}


def test_valid_settings_come_back_as_two_place_decimals():
    assert withdrawal_settings_check(**VALID) == {
        "minimum_amount": D("10.00"),
        "fee_percent": D("1.50"),
        "fee_free_amount": D("100.00"),
        "tax_percent": D("20.00"),
        "tax_threshold": D("800.00"),
        "payout_provider": "sandbox",
    }


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"minimum_amount": "0"}, "minimum_amount", "minimum_not_positive"),
        ({"minimum_amount": "0.001"}, "minimum_amount", "invalid_number"),
        ({"minimum_amount": "abc"}, "minimum_amount", "invalid_number"),
        ({"minimum_amount": 1.5}, "minimum_amount", "invalid_number"),
        ({"minimum_amount": "10000000000.00"}, "minimum_amount", "out_of_range"),
        ({"fee_percent": "-1"}, "fee_percent", "out_of_range"),
        ({"fee_percent": "100.01"}, "fee_percent", "out_of_range"),
        ({"fee_free_amount": "-0.01"}, "fee_free_amount", "out_of_range"),
        ({"tax_percent": "NaN"}, "tax_percent", "invalid_number"),
        ({"tax_threshold": "-1"}, "tax_threshold", "out_of_range"),
        ({"fee_percent": "50.00", "tax_percent": "50.00"}, "tax_percent", "fee_and_tax_too_high"),
        ({"fee_percent": "100", "tax_percent": "0"}, "tax_percent", "fee_and_tax_too_high"),
        ({"payout_provider": "paypal"}, "payout_provider", "unknown_payout_provider"),
    ],
)
def test_invalid_settings_name_the_field_at_fault(changes, field, code):
    with pytest.raises(WithdrawalSettingsInvalid) as refused:
        withdrawal_settings_check(**{**VALID, **changes})

    assert (refused.value.field, refused.value.code) == (field, code)


def test_fee_and_tax_just_below_100_percent_are_allowed():
    cleaned = withdrawal_settings_check(**{**VALID, "fee_percent": "49.99", "tax_percent": "50"})
    assert cleaned["fee_percent"] + cleaned["tax_percent"] == D("99.99")


@pytest.mark.django_db
def test_defaults_without_a_row(merchant):
    settings = withdrawal_settings_for(merchant=merchant)

    assert settings.pk is None
    assert (
        settings.minimum_amount,
        settings.fee_percent,
        settings.fee_free_amount,
        settings.tax_percent,
        settings.tax_threshold,
        settings.review_required,
        settings.payout_provider,
    ) == (D("1.00"), D("0.00"), D("0.00"), D("0.00"), D("800.00"), True, "sandbox")


@pytest.mark.django_db
def test_update_creates_the_row_once_and_checks_against_the_rest(merchant):
    withdrawal_settings_update(merchant=merchant, fee_percent=D("60.00"))
    settings = withdrawal_settings_update(merchant=merchant, review_required=False)

    assert WithdrawalSettings.objects.filter(merchant=merchant).count() == 1
    assert (settings.fee_percent, settings.review_required) == (D("60.00"), False)
    with pytest.raises(WithdrawalSettingsInvalid) as refused:
        withdrawal_settings_update(merchant=merchant, tax_percent=D("40.00"))
    assert refused.value.code == "fee_and_tax_too_high"
    assert WithdrawalSettings.objects.get(merchant=merchant).tax_percent == D("0.00")


@pytest.mark.django_db
def test_update_refuses_unknown_names_and_non_booleans(merchant):
    with pytest.raises(TypeError):
        withdrawal_settings_update(merchant=merchant, colour="red")
    with pytest.raises(WithdrawalSettingsInvalid):
        withdrawal_settings_update(merchant=merchant, review_required="yes")
