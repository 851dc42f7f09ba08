from django import forms
from django.utils.translation import gettext_lazy as _

from apps.orders.models import OrderLine
from apps.orders.services import MAX_LINE_QUANTITY
from apps.refunds.models import RefundCase
from apps.refunds.services import MAX_REASON

KINDS = [
    (RefundCase.Kind.ORDER, _("The whole order")),
    (RefundCase.Kind.LINE, _("One item")),
    (RefundCase.Kind.QUANTITY, _("Some units of one item")),
    (RefundCase.Kind.AMOUNT, _("An amount of one item (I keep the goods)")),
]


class RefundRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Refund"), choices=KINDS, widget=forms.RadioSelect)
    order_line = forms.ModelChoiceField(
        label=_("Item"), queryset=OrderLine.objects.none(), required=False, empty_label=None
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_LINE_QUANTITY, required=False
    )
    amount = forms.DecimalField(
        label=_("Amount (¥)"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )
    return_goods = forms.BooleanField(label=_("I send the goods back"), required=False)

    def __init__(self, *args, order_lines, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        field = self.fields["order_line"]
        field.queryset = order_lines  # type: ignore[attr-defined]
        field.label_from_instance = lambda line: (  # type: ignore[attr-defined]
            f"{line.product_name} · {line.sku_name} × {line.quantity} (¥{line.paid_amount})"
        )

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and kind != RefundCase.Kind.ORDER and not cleaned.get("order_line"):
            self.add_error("order_line", _("Choose the item to refund."))
        if kind == RefundCase.Kind.QUANTITY and not cleaned.get("quantity"):
            self.add_error("quantity", _("How many units?"))
        if kind == RefundCase.Kind.AMOUNT and not cleaned.get("amount"):
            self.add_error("amount", _("How much?"))
        return cleaned
