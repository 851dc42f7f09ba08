from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.marketing.pricing import BEST_COUPON
from apps.orders.services import MAX_LINE_QUANTITY, Discounts


class AddToCartForm(forms.Form):
    sku = forms.IntegerField(label=_("Variant"), min_value=1, max_value=2**62)
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1
    )


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_LINE_QUANTITY)


class CheckoutForm(forms.Form):
    recipient_name = forms.CharField(label=_("Recipient name"), max_length=64)
    recipient_phone = forms.CharField(label=_("Phone"), max_length=32)
    shipping_address = forms.CharField(
        label=_("Address"), max_length=255, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Note"), max_length=255, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DiscountChoiceForm(forms.Form):
    """The coupon (a grant id, "none", or empty for the best one) and points at checkout."""

    coupon = forms.CharField(required=False, max_length=20)
    points = forms.IntegerField(label=_("Points to use"), required=False, min_value=0)

    def discounts(self) -> Discounts:
        data = self.cleaned_data if self.is_valid() else {}
        raw = (data.get("coupon") or "").strip()
        coupon: object = BEST_COUPON
        if raw == "none":
            coupon = None
        elif raw.isdigit():
            coupon = int(raw)
        return Discounts(coupon=coupon, points=data.get("points") or 0)


class LiveBuyForm(CheckoutForm):
    """Buying the pinned product in a live room: one SKU, a quantity and the recipient."""

    sku = forms.IntegerField(label=_("Variant"), min_value=1)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)


class GroupBuyForm(CheckoutForm):
    """Opening or joining a group: a quantity and the recipient (the group buy's one SKU)."""

    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_LINE_QUANTITY, initial=1
    )


class DistributorJoinForm(forms.Form):
    invite_code = forms.CharField(
        label=_("Invite code"),
        max_length=32,
        required=False,
        help_text=_("Optional: the code of the distributor who invited you."),
    )


class ResalePriceForm(forms.Form):
    """A distributor's resale price for one SKU; the price is validated by the service (it knows
    the floor, the ceiling and the purchase price) so that every interface refuses alike."""

    sku = forms.IntegerField(min_value=1, max_value=2**62)
    price = forms.CharField(label=_("My price"), max_length=32, required=False)
    clear = forms.BooleanField(required=False)


class WithdrawalRequestForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (¥)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    account = forms.CharField(
        label=_("Pay into account"),
        max_length=64,
        required=False,
        help_text=_(
            "For example your Alipay account or WeChat ID. Empty: your saved payout account."
        ),
    )
    request_token = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, account_optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Empty means "my saved payout account" only for a distributor who saved one.
        self.fields["account"].required = not account_optional
