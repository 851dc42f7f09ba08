"""The one binding service: a customer who arrives through a distributor's link or code is bound
to that distributor (锁客), then checked by the fraud guards. The storefront's pages and the API's
binding endpoint both call ``customer_bind``; nothing binds on the side.

The binding rules are the distributors app's (``apps.distributors.binding.binding_bind``); the one
rule that needs orders — "new customers only" — is answered here, above orders.
"""

from datetime import datetime

from apps.accounts.models import User
from apps.distributors.binding import binding_bind
from apps.distributors.guards import fraud_check_binding
from apps.distributors.models import CustomerBinding
from apps.merchants.models import Merchant
from apps.orders.models import Order


def customer_has_paid_an_order(*, merchant: Merchant, customer: User) -> bool:
    return Order.objects.filter(
        merchant=merchant, customer=customer, paid_at__isnull=False
    ).exists()


def customer_bind(
    *,
    merchant: Merchant,
    customer: User,
    invite_code: str,
    source: str = CustomerBinding.Source.LINK,
    ip: str | None = None,
    device: str = "",
    now: datetime | None = None,
) -> CustomerBinding:
    """Bind ``customer`` to the owner of ``invite_code`` per the merchant's binding mode and flag
    the distributor when the customer's device or IP is their own; the binding in force afterwards.

    A refusal (an unknown code, self-referral, a loop, not a new customer) is a DomainError and
    changes nothing."""
    binding = binding_bind(
        merchant=merchant,
        customer=customer,
        invite_code=invite_code,
        has_paid_before=lambda: customer_has_paid_an_order(merchant=merchant, customer=customer),
        source=source,
        now=now,
    )
    if ip or device:
        fraud_check_binding(binding=binding, ip=ip, device=device)
    return binding
