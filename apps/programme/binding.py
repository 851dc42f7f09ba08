"""The one binding service: a customer who arrives through a distributor's link or code is bound
to that distributor (锁客), then checked by the fraud guards. The storefront's pages and the API's
binding endpoint both call ``customer_bind``; nothing binds on the side.

The binding rules are the distributors app's (``apps.distributors.binding.binding_bind``); the one
rule that needs orders — "new customers only" — is answered here, above orders.

A distributor's coupon link (``coupon_link_claim``) binds by the same rules and then claims the
coupon: a bind the rules refuse leaves the consumer unbound and the claim stands (the link is a
store page like any other, and refusing a bind never refuses the visit); the caller is told which.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import transaction

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.distributors.binding import binding_bind
from apps.distributors.guards import fraud_check_binding
from apps.distributors.models import CustomerBinding, Distributor
from apps.distributors.selectors import binding_for_customer
from apps.marketing.models import CouponGrant
from apps.marketing.services import coupon_claim
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


class BindOutcome(StrEnum):
    BOUND = "bound"  # bound to the link's distributor (now or already)
    KEPT = "kept"  # an earlier binding stays in force (permanent, or N days not over)
    REFUSED = "refused"  # the binding rules refused: self-referral, a loop, not a new customer


@dataclass(frozen=True)
class CouponLinkClaim:
    grant: CouponGrant
    outcome: BindOutcome
    refusal_code: str = ""
    refusal_message: str = ""
    # whom the consumer's orders credit after the claim (the binding in force), or None
    bound_to: Distributor | None = None


def coupon_link_claim(
    *,
    merchant: Merchant,
    customer: User,
    coupon_id: int,
    invite_code: str,
    ip: str | None = None,
    device: str = "",
) -> CouponLinkClaim:
    """Claim a coupon through a distributor's coupon link: bind ``customer`` by the binding rules
    (``customer_bind``), then claim the coupon recording the distributor. A refused bind is
    reported in the result, not raised; a refused claim (an unknown code or coupon: NotFound;
    the limit, none left: DomainError) writes nothing, the binding included."""
    refusal: DomainError | None = None
    binding: CustomerBinding | None = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                binding = customer_bind(
                    merchant=merchant,
                    customer=customer,
                    invite_code=invite_code,
                    ip=ip,
                    device=device,
                )
        except DomainError as error:
            refusal = error
        grant = coupon_claim(
            merchant=merchant, customer=customer, coupon_id=coupon_id, distributor_code=invite_code
        )
    if refusal is not None:
        in_force = binding_for_customer(merchant=merchant, customer=customer)
        return CouponLinkClaim(
            grant=grant,
            outcome=BindOutcome.REFUSED,
            refusal_code=refusal.code,
            refusal_message=str(refusal.message),
            bound_to=in_force.distributor if in_force is not None else None,
        )
    assert binding is not None
    return CouponLinkClaim(
        grant=grant,
        outcome=(
            BindOutcome.BOUND
            if binding.distributor_id == grant.distributor_id
            else BindOutcome.KEPT
        ),
        bound_to=binding.distributor,
    )
