"""The supplier's money: owed at payment, frozen, released after the after-sale window, taken back
by refunds the supplier bears, all in the one ledger (and ``ledger_check`` sees every breach)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.errors import DomainError
from apps.dropship.models import SupplyShare, SupplyShareReversal
from apps.dropship.supply_money import (
    supply_release_due,
    supply_shares_open,
)
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, SupplierWallet
from apps.ledger.posting import Leg, UnbalancedJournal, ledger_post
from apps.orders.services import order_complete
from apps.payments import tasks as payment_tasks
from apps.refunds.models import RefundCase
from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.refunds.conftest import notify
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supply_product, pick

D = Decimal
A = LedgerEntry.Account
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _refund_deliveries(monkeypatch):
    """The sandbox's refund notifications are applied by the tests (``notify``), not sent."""
    monkeypatch.setattr(
        payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
    )


@pytest.fixture(autouse=True)
def ledger_stays_sound(request):
    yield
    if request.node.get_closest_marker("django_db") is not None:
        assert ledger_breaches() == []


@pytest.fixture
def tea_farm(db):
    return make_supplier("tea-farm")


@pytest.fixture
def lines(merchant, tea_farm):
    """The store's own goods (30.00), tea at 60.00 supply / 99.00 retail, fruit at 20.00 / 35.00."""
    own = SkuFactory(product__merchant=merchant, price=D("30.00"), stock=9)
    tea = pick(merchant, make_supply_product(tea_farm))
    fruit_farm = make_supplier("fruit-farm")
    fruit = pick(
        merchant,
        make_supply_product(
            fruit_farm, supply_price="20.00", min_retail="30.00", suggested="35.00"
        ),
        price="35.00",
    )
    return own, tea, fruit


@pytest.fixture
def paid(merchant, lines):
    own, tea, fruit = lines
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(own, 1), (tea, 2), (fruit, 3)])
    pay(merchant=merchant, customer=customer, order=order)
    return order


def wallet(merchant, slug):
    row = SupplierWallet.objects.get(merchant=merchant, supplier__slug=slug)
    return (row.frozen, row.available, row.withdrawing, row.withdrawn)


def complete(merchant, order):
    ship_all(order)
    order.refresh_from_db()
    assert order_complete(order=order) is True
    order.refresh_from_db()
    return order


def ship_all(order):
    from apps.dropship.models import Shipment
    from apps.dropship.services import shipment_ship

    for shipment in Shipment.objects.filter(order=order).order_by("id"):
        shipment_ship(
            shipment=shipment, carrier="SF", tracking_number=f"SF{shipment.pk}", actor=None
        )


def request_tea_refund(order, lines):
    """The consumer asks for the tea line back (the case is left requested)."""
    return refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=RefundCase.Kind.LINE,
        reason="broken",
        lines=[RefundLineRequest(order_line_id=order.lines.get(sku=lines[1]).pk)],
    )


def refund(order, line, amount=None, *, borne_by=None, capture):
    case = refund_request(
        merchant=order.merchant,
        customer=order.customer,
        order_id=order.pk,
        kind=RefundCase.Kind.AMOUNT if amount else RefundCase.Kind.LINE,
        reason="broken",
        lines=[RefundLineRequest(order_line_id=line.pk, amount=amount)],
    )
    with capture(execute=True):
        refund_approve(
            merchant=order.merchant, case_id=case.pk, actor=None, supply_borne_by=borne_by
        )
    case.refresh_from_db()
    assert notify(case) == "refunded"
    case.refresh_from_db()
    return case


# --- owed at payment ---------------------------------------------------------------------------


def test_paying_owes_each_supplier_its_supply_price_times_quantity_frozen(merchant, paid):
    journal = Journal.objects.get(merchant=merchant, key=f"order:{paid.pk}:supply")

    assert journal.kind == Journal.Kind.SUPPLY_OWED
    assert sorted(
        (leg.account, leg.supplier.slug if leg.supplier else None, leg.amount)
        for leg in journal.entries.all()
    ) == [
        (A.MERCHANT_PAYABLE, None, D("-180.00")),
        (A.SUPPLIER_FROZEN, "fruit-farm", D("60.00")),
        (A.SUPPLIER_FROZEN, "tea-farm", D("120.00")),
    ]
    assert wallet(merchant, "tea-farm") == (D("120.00"), D("0"), D("0"), D("0"))
    assert wallet(merchant, "fruit-farm") == (D("60.00"), D("0"), D("0"), D("0"))
    assert sorted(SupplyShare.objects.values_list("amount", "status")) == [
        (D("60.00"), "frozen"),
        (D("120.00"), "frozen"),
    ]


def test_owing_twice_posts_nothing_more(merchant, paid):
    supply_shares_open(order_id=paid.pk)
    supply_shares_open(order_id=paid.pk)

    assert Journal.objects.filter(kind=Journal.Kind.SUPPLY_OWED).count() == 1
    assert SupplyShare.objects.count() == 2
    assert wallet(merchant, "tea-farm")[0] == D("120.00")


def test_an_order_of_own_goods_owes_no_supplier(merchant, lines):
    own = lines[0]
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(own, 2)])
    pay(merchant=merchant, customer=customer, order=order)

    assert not Journal.objects.filter(kind=Journal.Kind.SUPPLY_OWED).exists()
    assert not SupplierWallet.objects.exists()


def test_each_store_owes_the_supplier_in_its_own_wallet(merchant, tea_farm, paid):
    other = MerchantFactory()
    tea_there = pick(other, make_supply_product(tea_farm, code="500"))
    customer = UserFactory()
    order = place(merchant=other, customer=customer, lines=[(tea_there, 1)])
    pay(merchant=other, customer=customer, order=order)

    assert wallet(merchant, "tea-farm")[0] == D("120.00")
    assert wallet(other, "tea-farm")[0] == D("60.00")
    assert ledger_breaches(merchant_id=other.pk) == []


# --- the ledger refuses supplier legs without their supplier ----------------------------------


def test_supplier_legs_need_a_supplier_and_no_distributor(merchant, tea_farm, chain):
    with transaction.atomic():
        with pytest.raises(UnbalancedJournal):
            ledger_post(
                merchant_id=merchant.pk,
                kind=Journal.Kind.ADJUSTMENT,
                key="x",
                legs=[Leg(A.MERCHANT_PAYABLE, D("-1")), Leg(A.SUPPLIER_FROZEN, D("1"))],
            )
        with pytest.raises(UnbalancedJournal):
            ledger_post(
                merchant_id=merchant.pk,
                kind=Journal.Kind.ADJUSTMENT,
                key="y",
                legs=[
                    Leg(A.MERCHANT_PAYABLE, D("-1"), supplier_id=tea_farm.pk),
                    Leg(A.SUPPLIER_FROZEN, D("1"), supplier_id=tea_farm.pk),
                ],
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        journal = Journal.objects.create(merchant=merchant, kind="adjustment", key="raw")
        LedgerEntry.objects.create(
            merchant=merchant,
            journal=journal,
            account=A.SUPPLIER_AVAILABLE,
            distributor=chain[0],
            amount=D("1"),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        journal = Journal.objects.create(merchant=merchant, kind="adjustment", key="raw")
        LedgerEntry.objects.create(
            merchant=merchant,
            journal=journal,
            account=A.MERCHANT_PAYABLE,
            supplier=tea_farm,
            amount=D("1"),
        )


def test_ledger_check_sees_a_supplier_wallet_out_of_step_and_a_missing_share(merchant, paid):
    assert ledger_breaches() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_supplierwallet SET frozen = frozen + 1 WHERE merchant_id = %s",
            [merchant.pk],
        )
    breaches = ledger_breaches()
    assert len(breaches) == 2
    assert all("frozen is" in breach for breach in breaches)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_supplierwallet SET frozen = frozen - 1 WHERE merchant_id = %s",
            [merchant.pk],
        )
    SupplyShareReversal.objects.all().delete()
    share = SupplyShare.objects.order_by("id").first()
    SupplyShare.objects.filter(pk=share.pk).update(amount=D("1.00"))
    breaches = ledger_breaches()
    assert any(f"supplier's share {share.pk} is 1.00" in breach for breach in breaches)
    assert any("legs sum to" in breach for breach in breaches)
    SupplyShare.objects.filter(pk=share.pk).update(amount=share.amount)
    assert ledger_breaches() == []


# --- release -----------------------------------------------------------------------------------


def test_released_after_the_after_sale_window_not_before(merchant, paid):
    assert supply_release_due() == 0  # not completed: no release date yet
    complete(merchant, paid)
    shares = list(SupplyShare.objects.order_by("id"))
    assert {share.release_at for share in shares} == {paid.completed_at + timedelta(days=7)}

    assert supply_release_due(now=paid.completed_at + timedelta(days=6)) == 0
    assert wallet(merchant, "tea-farm") == (D("120.00"), D("0"), D("0"), D("0"))

    assert supply_release_due(now=paid.completed_at + timedelta(days=7, seconds=1)) == 2
    assert wallet(merchant, "tea-farm") == (D("0.00"), D("120.00"), D("0"), D("0"))
    assert wallet(merchant, "fruit-farm") == (D("0.00"), D("60.00"), D("0"), D("0"))
    assert supply_release_due(now=paid.completed_at + timedelta(days=8)) == 0
    assert Journal.objects.filter(kind=Journal.Kind.SUPPLY_RELEASED).count() == 2


def test_an_open_refund_case_holds_the_release_of_its_line_only(merchant, paid, lines):
    own, tea, fruit = lines
    complete(merchant, paid)
    request_tea_refund(paid, lines)

    assert supply_release_due(now=timezone.now() + timedelta(days=8)) == 1
    assert wallet(merchant, "tea-farm") == (D("120.00"), D("0"), D("0"), D("0"))
    assert wallet(merchant, "fruit-farm") == (D("0.00"), D("60.00"), D("0"), D("0"))


def test_ledger_check_sees_a_share_released_early(merchant, paid):
    complete(merchant, paid)
    supply_release_due(now=paid.completed_at + timedelta(days=8))
    SupplyShare.objects.update(released_at=paid.completed_at)

    assert sum("before its release date" in breach for breach in ledger_breaches()) == 2
    SupplyShare.objects.update(released_at=paid.completed_at + timedelta(days=8))


# --- refunds -----------------------------------------------------------------------------------


def test_a_refund_the_supplier_bears_takes_its_share_back_pro_rata(
    merchant, paid, lines, django_capture_on_commit_callbacks
):
    tea_line = paid.lines.get(sku=lines[1])  # 2 × 99.00 paid 198.00, supplier's share 120.00
    case = refund(paid, tea_line, D("66.00"), capture=django_capture_on_commit_callbacks)

    share = SupplyShare.objects.get(order_line=tea_line)
    assert (share.reversed_amount, share.status) == (D("40.00"), "frozen")
    assert wallet(merchant, "tea-farm") == (D("80.00"), D("0"), D("0"), D("0"))
    reversal = Journal.objects.get(kind=Journal.Kind.SUPPLY_REVERSED)
    assert (reversal.key, reversal.memo) == (
        f"supply:{share.pk}:refund:{case.pk}",
        "borne by the supplier",
    )
    assert Journal.objects.get(key=f"refund:{case.pk}").memo == "borne by the supplier"

    refund(paid, tea_line, capture=django_capture_on_commit_callbacks)  # the rest of the line

    share.refresh_from_db()
    assert (share.reversed_amount, share.status) == (D("120.00"), "cancelled")
    assert wallet(merchant, "tea-farm") == (D("0.00"), D("0"), D("0"), D("0"))
    assert wallet(merchant, "fruit-farm") == (D("60.00"), D("0"), D("0"), D("0"))


def test_a_refund_the_store_bears_leaves_the_supplier_its_share(
    merchant, paid, lines, django_capture_on_commit_callbacks
):
    tea_line = paid.lines.get(sku=lines[1])
    case = refund(
        paid,
        tea_line,
        borne_by=RefundCase.SupplyBorneBy.MERCHANT,
        capture=django_capture_on_commit_callbacks,
    )

    assert case.supply_borne_by == "merchant"
    assert Journal.objects.get(key=f"refund:{case.pk}").memo == "borne by the merchant"
    assert not Journal.objects.filter(kind=Journal.Kind.SUPPLY_REVERSED).exists()
    assert wallet(merchant, "tea-farm") == (D("120.00"), D("0"), D("0"), D("0"))


def test_after_release_the_clawback_leaves_the_supplier_in_debt(
    merchant, paid, lines, django_capture_on_commit_callbacks
):
    complete(merchant, paid)
    supply_release_due(now=paid.completed_at + timedelta(days=8))
    tea_line = paid.lines.get(sku=lines[1])
    refund(paid, tea_line, D("99.00"), capture=django_capture_on_commit_callbacks)

    assert wallet(merchant, "tea-farm") == (D("0.00"), D("60.00"), D("0"), D("0"))
    share = SupplyShare.objects.get(order_line=tea_line)
    assert (share.status, share.reversed_amount) == ("released", D("60.00"))
    # Paid out meanwhile (the balance withdrawn), the next clawback is a debt.
    with transaction.atomic():
        ledger_post(
            merchant_id=merchant.pk,
            kind=Journal.Kind.ADJUSTMENT,
            key="test-payout",
            legs=[
                Leg(A.SUPPLIER_AVAILABLE, D("-60.00"), supplier_id=share.supplier_id),
                Leg(A.SUPPLIER_WITHDRAWN, D("60.00"), supplier_id=share.supplier_id),
            ],
        )
    refund(paid, tea_line, capture=django_capture_on_commit_callbacks)
    assert wallet(merchant, "tea-farm") == (D("0.00"), D("-60.00"), D("0"), D("60.00"))


def test_an_unknown_bearer_is_refused_and_changes_nothing(merchant, paid, lines):
    case = request_tea_refund(paid, lines)
    with pytest.raises(DomainError) as refused:
        refund_approve(merchant=merchant, case_id=case.pk, actor=None, supply_borne_by="nobody")
    assert refused.value.code == "invalid_borne_by"
    case.refresh_from_db()
    assert (case.status, case.supply_borne_by) == ("requested", "supplier")


def test_another_merchants_staff_cannot_decide_the_case(merchant, paid, lines):
    from apps.core.errors import NotFound

    case = request_tea_refund(paid, lines)
    with pytest.raises(NotFound):
        refund_approve(
            merchant=MerchantFactory(), case_id=case.pk, actor=None, supply_borne_by="merchant"
        )
    case.refresh_from_db()
    assert (case.status, case.supply_borne_by) == ("requested", "supplier")


# --- the README's worked example --------------------------------------------------------------


def test_the_readmes_worked_example_to_the_cent(
    merchant, tea_farm, lines, django_capture_on_commit_callbacks
):
    from apps.commissions.services import commission_settle_orders
    from apps.distributors.services import distributor_join
    from apps.programme.binding import customer_bind

    distributor = distributor_join(merchant=merchant, user=UserFactory())
    customer = UserFactory()
    customer_bind(merchant=merchant, customer=customer, invite_code=distributor.invite_code)
    order = place(merchant=merchant, customer=customer, lines=[(lines[1], 2)])
    pay(merchant=merchant, customer=customer, order=order)
    complete(merchant, order)
    commission_settle_orders(order_id=order.pk)

    def shares():
        legs = {
            account: total
            for account, total in LedgerEntry.objects.filter(journal__order=order)
            .values("account")
            .annotate(total=Sum("amount"))
            .values_list("account", "total")
        }
        return (
            legs.get(A.MERCHANT_PAYABLE),
            legs.get(A.SUPPLIER_FROZEN, D("0")) + legs.get(A.SUPPLIER_AVAILABLE, D("0")),
            legs.get(A.FROZEN, D("0")) + legs.get(A.AVAILABLE, D("0")),
            legs.get(A.PLATFORM_FEE),
        )

    assert shares() == (D("56.22"), D("120.00"), D("19.80"), D("1.98"))
    refund(order, order.lines.get(), D("99.00"), capture=django_capture_on_commit_callbacks)
    assert shares() == (D("28.11"), D("60.00"), D("9.90"), D("0.99"))
