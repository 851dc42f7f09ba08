"""The demo's money after the orders: released commission, 茗香茶庄's withdrawal rules, a refunded
line with its commission taken back, and a paid withdrawal."""

from decimal import Decimal

from django.core.management.base import CommandError

from apps.commissions.services import commissions_release_due
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_refund_no,
    sandbox_refund_notification_body,
    sandbox_sign,
)
from apps.refunds.models import RefundCase
from apps.refunds.services import (
    RefundLineRequest,
    refund_approve,
    refund_handle_notification,
    refund_request,
)
from apps.withdrawals.services import (
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_request,
    withdrawal_settings_update,
)

from .merchants import STORE_STAFF
from .orders import COMPLETED, ORDERS
from .world import FRUIT, TEA, DemoWorld


def release_due_commission(world: DemoWorld) -> None:
    commissions_release_due()


def set_withdrawal_rules(world: DemoWorld) -> None:
    """茗香茶庄: minimum ¥10, 0.6 % fee above the first ¥100 of each withdrawal, 20 % tax above
    ¥800, reviewed by staff. 鲜果园 keeps the defaults (¥1 minimum, no fee, no tax)."""
    withdrawal_settings_update(
        merchant=world.merchants[TEA],
        minimum_amount=Decimal("10.00"),
        fee_percent=Decimal("0.60"),
        fee_free_amount=Decimal("100.00"),
        tax_percent=Decimal("20.00"),
        tax_threshold=Decimal("800.00"),
    )


def refund_a_line(world: DemoWorld) -> None:
    """carol gets one box of 阳光玫瑰青提 of her completed 鲜果园 order refunded (售后): the
    sandbox refunds it and fruit_d2's and fruit_d1's frozen commission on it is taken back."""
    fruit = world.merchants[FRUIT]
    carol = world.users["carol"]
    order = next(
        order
        for index, order in world.orders.items()
        if ORDERS[index].store == FRUIT and ORDERS[index].outcome == COMPLETED
    )
    line = order.lines.get(sku__code="FR-YG-2")
    case = refund_request(
        merchant=fruit,
        customer=carol,
        order_id=order.pk,
        kind=RefundCase.Kind.LINE,
        reason="收到时有几颗压坏了",
        lines=[RefundLineRequest(line.pk)],
    )
    case = refund_approve(merchant=fruit, case_id=case.pk, actor=world.users[STORE_STAFF[FRUIT]])
    body = sandbox_refund_notification_body(
        out_refund_no=case.idempotency_key,
        provider_refund_no=sandbox_refund_no(case.idempotency_key),
        amount=case.amount,
    )
    outcome = refund_handle_notification(
        provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
    )
    if outcome != "refunded":
        raise CommandError(f"The sandbox refund of order {order.number} was {outcome!r}.")


def pay_a_withdrawal(world: DemoWorld) -> None:
    """tea_d4 withdraws ¥20 of the commission already available (within the fee-free band),
    tea_admin approves it and the sandbox pays it out."""
    tea = world.merchants[TEA]
    withdrawal = withdrawal_request(
        merchant=tea,
        distributor=world.distributors["tea_d4"],
        amount=Decimal("20.00"),
        account="alipay:tea_d4@example.com",
    )
    withdrawal_approve(
        merchant=tea, withdrawal_id=withdrawal.pk, actor=world.users[STORE_STAFF[TEA]]
    )
    outcome = withdrawal_pay(withdrawal_id=withdrawal.pk)
    if outcome != "paid":
        raise CommandError(f"The demo withdrawal was {outcome!r}.")
