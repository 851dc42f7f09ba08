from rest_framework import serializers


class PaymentStartSerializer(serializers.Serializer):
    out_trade_no = serializers.CharField()
    provider = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    checkout_url = serializers.URLField(help_text="Send the customer here to pay.")
