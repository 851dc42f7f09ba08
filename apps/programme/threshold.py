"""The spending threshold (满额): in threshold mode, the payment that brings a customer's paid total
in the store to the merchant's ``spend_threshold`` makes them a distributor, right after it commits
(``handlers``) and by a beat sweep; raising the threshold later never takes it away.

A customer's paid total is what their paid, shipped and completed orders cost, less what refunds
gave back of them. It reads orders and refunds, so it stands here, above them; the join itself is
the distributors app's (``distributor_join_qualified``).
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from apps.accounts.models import User
from apps.distributors.models import CustomerBinding, Distributor, ProgrammeSettings
from apps.distributors.recruitment import distributor_join_qualified
from apps.distributors.selectors import binding_for_customer, programme_settings_for
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.refunds.selectors import order_refunded_amount

Mode = ProgrammeSettings.RecruitmentMode
# Orders whose payment counts towards the spending threshold (paid and never cancelled).
PAID_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED)


def customer_paid_total(*, merchant_id: int, customer_id: int) -> Decimal:
    """What the customer spent in the store: their paid, shipped and completed orders, less what
    refunds gave back of them (money refunded was never spent)."""
    total = (
        Order.objects.filter(
            merchant_id=merchant_id, customer_id=customer_id, status__in=PAID_STATUSES
        )
        .annotate(kept=F("payable_amount") - order_refunded_amount())
        .aggregate(total=Sum("kept"))["total"]
    )
    return total or Decimal("0.00")


def threshold_grant_if_reached(
    *, merchant_id: int, customer_id: int, order_id: int | None = None
) -> Distributor | None:
    """Make the customer a distributor if the store is in threshold mode and their paid total has
    reached the threshold (harmless to run twice). The order that crosses it is recorded."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or not merchant.is_active:
        return None
    settings = programme_settings_for(merchant=merchant)
    if settings.recruitment_mode != Mode.THRESHOLD or not settings.spend_threshold:
        return None
    if Distributor.objects.filter(merchant_id=merchant_id, user_id=customer_id).exists():
        return None
    if customer_paid_total(merchant_id=merchant_id, customer_id=customer_id) < (
        settings.spend_threshold
    ):
        return None
    customer = User.objects.get(pk=customer_id)
    qualifying = _crossing_order(
        merchant_id=merchant_id, customer_id=customer_id, threshold=settings.spend_threshold
    )
    if qualifying is None and order_id is not None:
        qualifying = Order.objects.filter(pk=order_id, merchant_id=merchant_id).first()
    binding = binding_for_customer(merchant=merchant, customer=customer)
    with transaction.atomic():
        distributor, _created = distributor_join_qualified(
            merchant=merchant,
            user=customer,
            invite_code=_code_of(binding),
            qualification=Distributor.Qualification.THRESHOLD,
            qualifying_order_id=qualifying.pk if qualifying is not None else None,
        )
    return distributor


def _code_of(binding: CustomerBinding | None) -> str | None:
    return binding.distributor.invite_code if binding is not None else None


def _crossing_order(*, merchant_id: int, customer_id: int, threshold: Decimal) -> Order | None:
    """The paid order (in payment order) with which the running total (net of refunds) first
    reached ``threshold``."""
    running = Decimal("0.00")
    for order in (
        Order.objects.filter(
            merchant_id=merchant_id, customer_id=customer_id, status__in=PAID_STATUSES
        )
        .annotate(kept=F("payable_amount") - order_refunded_amount())
        .order_by("paid_at", "id")
        .only("id", "payable_amount", "paid_at")
    ):
        running += order.kept
        if running >= threshold:
            return order
    return None


def threshold_sweep(*, limit: int = 500) -> int:
    """Grant every customer of a threshold-mode store whose paid total has reached the threshold
    and who is not a distributor yet (what a crash between payment and task would leave)."""
    granted = 0
    for settings in ProgrammeSettings.objects.filter(
        recruitment_mode=Mode.THRESHOLD, spend_threshold__isnull=False
    ).select_related("merchant"):
        if not settings.merchant.is_active:
            continue
        reached = (
            Order.objects.filter(merchant_id=settings.merchant_id, status__in=PAID_STATUSES)
            .exclude(
                customer_id__in=Distributor.objects.filter(merchant_id=settings.merchant_id).values(
                    "user_id"
                )
            )
            .alias(kept=F("payable_amount") - order_refunded_amount())
            .values("customer_id")
            .annotate(total=Sum("kept"))
            .filter(total__gte=settings.spend_threshold)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)[: limit - granted]
        )
        for customer_id in list(reached):
            if threshold_grant_if_reached(
                merchant_id=settings.merchant_id, customer_id=customer_id
            ):
                granted += 1
        if granted >= limit:
            break
    return granted
