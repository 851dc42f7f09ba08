"""``manage.py seed_demo``: what it loads, that the money in it is right, and that it runs once."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import User
from apps.commissions.models import CommissionRecord
from apps.distributors.models import CustomerBinding, Distributor
from apps.dropship.models import Shipment
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, Wallet
from apps.merchants.models import Merchant, MerchantApplication, MerchantStaff
from apps.orders.models import Cart, CartItem, Order, OrderLine, OrderStatusChange
from apps.payments.models import Payment
from apps.products.models import Product, Sku
from apps.suppliers.models import Supplier, SupplySku
from apps.suppliers.selectors import supplier_for_staff
from tests.factories import UserFactory
from tests.support.ledger import ledger_balances

DEMO_PASSWORD = "fenxiao-demo"
MODELS = [
    User,
    Merchant,
    MerchantStaff,
    MerchantApplication,
    Product,
    Sku,
    Distributor,
    CustomerBinding,
    Cart,
    CartItem,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    CommissionRecord,
    LedgerEntry,
    Wallet,
]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def distributor(username: str) -> Distributor:
    return Distributor.objects.get(user__username=username)


def test_loads_the_stores_people_and_orders(db, debug):
    seed()

    assert list(Merchant.objects.order_by("slug").values_list("slug", "name", "status")) == [
        ("demo-fruit", "鲜果园", "active"),
        ("demo-tea", "茗香茶庄", "active"),
    ]
    assert sorted(
        MerchantStaff.objects.values_list("user__username", "merchant__slug", "role")
    ) == [("fruit_admin", "demo-fruit", "owner"), ("tea_admin", "demo-tea", "owner")]
    assert User.objects.filter(username="admin", is_superuser=True, is_staff=True).exists()
    assert dict(
        Product.objects.values("merchant__slug")
        .annotate(n=Count("id"))
        .values_list("merchant__slug", "n")
    ) == {"demo-tea": 8, "demo-fruit": 7}  # own goods, and honey picked from the supplier
    assert dict(
        Sku.objects.values("merchant__slug")
        .annotate(n=Count("id"))
        .values_list("merchant__slug", "n")
    ) == {"demo-tea": 15, "demo-fruit": 12}
    assert dict(
        Order.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    ) == {"pending_payment": 1, "paid": 3, "shipped": 1, "completed": 3, "cancelled": 1}
    assert CartItem.objects.count() == 0
    assert list(
        MerchantApplication.objects.values_list("slug", "status", "applicant__username")
    ) == [("demo-bakery", "pending", "bakery_owner")]
    assert User.objects.count() == 14
    for username in ["admin", "tea_admin", "fruit_admin", "tea_d4", "alice", "bakery_owner"]:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD), username


def test_distributor_chain_and_bindings(db, debug):
    seed()

    tea = [distributor(f"tea_d{n}") for n in range(1, 5)]
    assert [d.parent_id for d in tea] == [None, tea[0].pk, tea[1].pk, tea[2].pk]
    assert [d.level for d in tea] == [0, 1, 2, 3]
    assert distributor("fruit_d2").parent_id == distributor("fruit_d1").pk
    assert Distributor.objects.filter(merchant__slug="demo-fruit").count() == 2
    assert sorted(
        CustomerBinding.objects.values_list(
            "merchant__slug", "customer__username", "distributor__user__username"
        )
    ) == [
        ("demo-fruit", "bob", "fruit_d1"),
        ("demo-fruit", "carol", "fruit_d2"),
        ("demo-tea", "alice", "tea_d4"),
        ("demo-tea", "bob", "tea_d2"),
    ]


def test_alices_orders_pay_tea_d4_d3_d2_and_not_tea_d1(db, debug):
    seed()

    released, frozen = Order.objects.filter(customer__username="alice").order_by("id")
    for order in (released, frozen):
        assert (order.distributor, order.level2_distributor, order.level3_distributor) == (
            distributor("tea_d4"),
            distributor("tea_d3"),
            distributor("tea_d2"),
        )
        assert order.status == "completed" and order.commission_status == "settled"
    assert released.goods_amount == Decimal("445.00")
    assert sorted(
        CommissionRecord.objects.filter(order=released).values_list(
            "beneficiary__user__username", "level", "base_amount", "amount", "status"
        )
    ) == [
        ("tea_d2", 3, Decimal("189.00"), Decimal("3.78"), "released"),
        ("tea_d2", 3, Decimal("256.00"), Decimal("5.12"), "released"),
        ("tea_d3", 2, Decimal("189.00"), Decimal("9.45"), "released"),
        ("tea_d3", 2, Decimal("256.00"), Decimal("12.80"), "released"),
        ("tea_d4", 1, Decimal("189.00"), Decimal("18.90"), "released"),
        ("tea_d4", 1, Decimal("256.00"), Decimal("25.60"), "released"),
    ]
    assert sorted(
        CommissionRecord.objects.filter(order=frozen).values_list(
            "beneficiary__user__username", "level", "amount", "status"
        )
    ) == [
        ("tea_d2", 3, Decimal("1.76"), "frozen"),
        ("tea_d2", 3, Decimal("5.36"), "frozen"),
        ("tea_d3", 2, Decimal("4.40"), "frozen"),
        ("tea_d3", 2, Decimal("13.40"), "frozen"),
        ("tea_d4", 1, Decimal("8.80"), "frozen"),
        ("tea_d4", 1, Decimal("26.80"), "frozen"),
    ]
    assert not CommissionRecord.objects.filter(beneficiary=distributor("tea_d1")).exists()


def test_wallets_hold_what_the_ledger_says(db, debug):
    seed()

    wallets = {
        wallet.distributor.user.username: (wallet.frozen, wallet.available, wallet.withdrawn)
        for wallet in Wallet.objects.select_related("distributor__user")
    }
    assert wallets == {
        "tea_d1": (Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        "tea_d2": (Decimal("7.12"), Decimal("8.90"), Decimal("0.00")),
        "tea_d3": (Decimal("17.80"), Decimal("22.25"), Decimal("0.00")),
        # 20.00 of the 44.50 available withdrawn (paid out by the sandbox)
        "tea_d4": (Decimal("35.60"), Decimal("24.50"), Decimal("20.00")),
        # carol's 59.90 box refunded: what is left is the 149.00 box's 5 % and 10 %
        "fruit_d1": (Decimal("7.45"), Decimal("0.00"), Decimal("0.00")),
        "fruit_d2": (Decimal("14.90"), Decimal("0.00"), Decimal("0.00")),
    }
    for wallet in Wallet.objects.select_related("distributor"):
        assert ledger_balances(distributor=wallet.distributor) == {
            "frozen": wallet.frozen,
            "available": wallet.available,
            "withdrawing": wallet.withdrawing,
            "withdrawn": wallet.withdrawn,
        }
    assert ledger_breaches() == []


def test_old_order_history_is_in_the_past_and_consistent(db, debug):
    seed()
    now = timezone.now()

    old = Order.objects.filter(customer__username="alice").order_by("id").first()
    assert (
        old.created_at < old.paid_at < old.shipped_at < old.completed_at < now - timedelta(days=7)
    )
    history = list(old.status_changes.order_by("id").values_list("to_status", "created_at"))
    assert [status for status, _at in history] == [
        "pending_payment",
        "paid",
        "shipped",
        "completed",
    ]
    assert [at for _status, at in history] == [
        old.created_at,
        old.paid_at,
        old.shipped_at,
        old.completed_at,
    ]
    for record in CommissionRecord.objects.filter(order=old):
        assert record.release_at == old.completed_at + timedelta(days=7)
        assert record.release_at < record.released_at
    payment = Payment.objects.get(order=old)
    assert (payment.status, payment.succeeded_at) == ("succeeded", old.paid_at)
    assert (payment.platform_fee, payment.merchant_net) == (Decimal("4.45"), Decimal("440.55"))
    assert CustomerBinding.objects.get(customer__username="alice").bound_at < old.created_at


def test_stock_reserved_by_orders_and_returned_by_the_cancelled_one(db, debug):
    seed()

    assert dict(
        Sku.objects.filter(
            code__in=["TEA-LJ-50", "TEA-RY-TQ", "TEA-DHP-100", "FR-MG-5"]
        ).values_list("code", "stock")
    ) == {"TEA-LJ-50": 197, "TEA-RY-TQ": 29, "TEA-DHP-100": 150, "FR-MG-5": 149}
    assert Order.objects.get(status="cancelled").customer.username == "carol"


def test_prints_the_walkthrough_table_and_the_warning(db, debug):
    output = seed()

    tea_d4 = distributor("tea_d4")
    longjing = Product.objects.get(name="西湖龙井·明前特级")
    assert f"http://127.0.0.1:8000/s/demo-tea/p/{longjing.pk}/?ref={tea_d4.invite_code}" in output
    for text in [
        "http://127.0.0.1:8000/s/demo-tea/",
        "http://127.0.0.1:8000/admin/",
        "http://127.0.0.1:8000/api/v1/",
        "http://127.0.0.1:8000/api/docs/",
        "password for all: fenxiao-demo",
        "WARNING: these are demo credentials",
    ]:
        assert text in output
    for username in ["admin", "tea_admin", "fruit_admin", "tea_d1", "alice", "bob", "carol"]:
        assert f"\n  {username} " in output


def test_second_run_changes_nothing_and_says_so(db, debug):
    seed()
    before = row_counts()
    orders_before = list(Order.objects.values_list("id", "status", "commission_status"))
    wallets_before = list(Wallet.objects.values_list("id", "frozen", "available"))

    output = seed()

    assert "already loaded" in output and "nothing was changed" in output
    assert row_counts() == before
    assert list(Order.objects.values_list("id", "status", "commission_status")) == orders_before
    assert list(Wallet.objects.values_list("id", "frozen", "available")) == wallets_before
    assert "?ref=" + distributor("tea_d4").invite_code in output


def test_refuses_without_debug_unless_forced(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG off"):
        seed()
    assert Merchant.objects.count() == 0

    seed(force=True)
    assert Merchant.objects.count() == 2


def test_keeps_an_existing_operator_named_admin(db, debug):
    operator = User.objects.create_superuser("admin", password="my-own-secret-1")

    output = seed()

    operator.refresh_from_db()
    assert operator.check_password("my-own-secret-1")
    assert "its password was not changed" in output
    assert User.objects.filter(username="admin").count() == 1


def test_refuses_when_a_demo_username_is_taken(db, debug):
    UserFactory(username="alice")

    with pytest.raises(CommandError, match="alice"):
        seed()
    assert Merchant.objects.count() == 0


def test_the_demo_shows_a_tier_a_refund_with_clawback_and_a_paid_withdrawal(db, debug, capsys):
    from apps.commissions.models import CommissionReversal
    from apps.distributors.models import Tier, TierCondition
    from apps.payments.models import SandboxTransaction
    from apps.refunds.models import RefundCase
    from apps.withdrawals.models import Withdrawal

    seed()

    assert list(Tier.objects.order_by("rank").values_list("merchant__slug", "name", "rank")) == [
        ("demo-tea", "银牌", 1),
        ("demo-tea", "金牌", 2),
    ]
    assert TierCondition.objects.count() == 5
    # tea_d4 sold 445.00 + 356.00 in the last 30 days: 银牌 (from 300.00), not 金牌 (2,000.00)
    assert dict(
        Distributor.objects.filter(tier__isnull=False).values_list("user__username", "tier__name")
    ) == {"tea_d4": "银牌"}

    case = RefundCase.objects.get()
    assert (case.order.customer.username, case.status, case.amount) == (
        "carol",
        "refunded",
        Decimal("59.90"),
    )
    assert sorted(
        CommissionReversal.objects.values_list("beneficiary__user__username", "amount")
    ) == [("fruit_d1", Decimal("2.99")), ("fruit_d2", Decimal("5.99"))]

    withdrawal = Withdrawal.objects.get()
    assert (
        withdrawal.distributor.user.username,
        withdrawal.status,
        withdrawal.amount,
        withdrawal.net,
    ) == ("tea_d4", "paid", Decimal("20.00"), Decimal("20.00"))
    assert list(SandboxTransaction.objects.values_list("kind", "reference", "amount")) == [
        ("refund", case.idempotency_key, Decimal("59.90")),
        ("payout", withdrawal.idempotency_key, Decimal("20.00")),
    ]

    call_command("ledger_check")
    assert capsys.readouterr().out.startswith("ledger ok:")


def test_a_supplier_whose_honey_both_stores_sell(db, debug):
    seed()

    supplier = Supplier.objects.get(slug="honey-valley")
    assert supplier.application.status == "approved"
    assert supplier_for_staff(User.objects.get(username="honey_admin")) == supplier
    assert User.objects.get(username="honey_admin").check_password(DEMO_PASSWORD)
    picks = sorted(
        Sku.objects.filter(supply_sku__supplier=supplier).values_list(
            "merchant__slug", "supply_sku__code", "price"
        )
    )
    assert picks == [
        ("demo-fruit", "HV-DS-1000", Decimal("139.00")),
        ("demo-fruit", "HV-DS-500", Decimal("75.00")),
        ("demo-tea", "HV-DS-1000", Decimal("149.00")),
        ("demo-tea", "HV-DS-500", Decimal("79.00")),
        ("demo-tea", "HV-JT-500", Decimal("68.00")),
    ]
    assert SupplySku.objects.get(code="HV-DS-500").stock == 298
    order = Order.objects.get(merchant__slug="demo-tea", customer__username="bob", status="paid")
    assert [
        (parcel.supplier_id is not None, parcel.status)
        for parcel in Shipment.objects.filter(order=order).order_by("id")
    ] == [(False, "pending"), (True, "shipped")]
    assert "honey_admin" in seed()
