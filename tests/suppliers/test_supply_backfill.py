"""``manage.py supply_backfill``: orders paid before the suppliers' money was kept in the ledger
get it as the live paths would have posted it (owed, taken back by refunds, released after the
window), in the store's scope, once however often it runs; ``ledger_check`` is green after it."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.dropship import handlers as dropship_handlers
from apps.dropship.models import SupplyShare, SupplyShareReversal
from apps.dropship.supply_backfill import supply_backfill, supply_backfill_pending
from apps.dropship.supply_money import supply_release_due
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, SupplierWallet
from apps.refunds.models import RefundCase
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supply_product, pick
from .test_supply_money import _refund_deliveries, complete, refund  # noqa: F401

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def before_supplier_money(monkeypatch):
    """Paying opens no supplier's share (the code before the suppliers' money existed); the
    release, schedule and clawback paths find no share and do nothing, as they did then."""
    monkeypatch.setattr(dropship_handlers, "supply_shares_open", lambda *, order_id: [])


def store_with_goods(merchant):
    """The store's own goods (30.00), tea at 60.00 supply / 99.00 retail, fruit 20.00 / 35.00."""
    own = SkuFactory(product__merchant=merchant, price=D("30.00"), stock=9)
    tea = pick(merchant, make_supply_product(make_supplier(f"tea-{merchant.pk}")))
    fruit = pick(
        merchant,
        make_supply_product(
            make_supplier(f"fruit-{merchant.pk}"),
            supply_price="20.00",
            min_retail="30.00",
            suggested="35.00",
        ),
        price="35.00",
    )
    return own, tea, fruit


def paid_order(merchant, goods):
    own, tea, fruit = goods
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(own, 1), (tea, 2), (fruit, 3)])
    pay(merchant=merchant, customer=customer, order=order)
    return order


def history(merchant, goods, capture):
    """Paid; one jar of tea refunded (the supplier bears it), the fruit refunded in full (the
    store bears it); completed (the after-sale window is seven days)."""
    order = paid_order(merchant, goods)
    refund(order, order.lines.get(sku=goods[1]), D("99.00"), capture=capture)
    refund(
        order,
        order.lines.get(sku=goods[2]),
        borne_by=RefundCase.SupplyBorneBy.MERCHANT,
        capture=capture,
    )
    return complete(merchant, order)


def wallets(merchant):
    return sorted(
        (row.supplier.slug.split("-")[0], row.frozen, row.available, row.withdrawing, row.withdrawn)
        for row in SupplierWallet.objects.filter(merchant=merchant).select_related("supplier")
    )


def shares(order):
    return sorted(
        (share.supplier.slug.split("-")[0], share.amount, share.reversed_amount, share.status)
        for share in SupplyShare.objects.filter(order=order).select_related("supplier")
    )


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("supply_backfill", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_paid_order_gets_its_shares_frozen_and_ledger_check_turns_green(
    merchant, before_supplier_money
):
    order = paid_order(merchant, store_with_goods(merchant))
    tea_line, fruit_line = (
        order.lines.filter(supplier__isnull=False).order_by("id").values_list("pk", flat=True)
    )
    assert ledger_breaches() == [
        f"paid supplied order line {tea_line} (120.00 owed) has no supplier's share",
        f"paid supplied order line {fruit_line} (60.00 owed) has no supplier's share",
    ]
    with pytest.raises(CommandError):
        call_command("ledger_check", stderr=StringIO())

    out, err = run()

    assert err == ""
    assert out.splitlines() == [
        f"order {order.number} (merchant {merchant.pk}): owed 180.00, taken back 0.00, "
        "released 0.00, frozen 180.00",
        "supply backfill posted: 1 order(s), owed 180.00, taken back 0.00, released 0.00",
    ]
    assert shares(order) == [
        ("fruit", D("60.00"), D("0.00"), "frozen"),
        ("tea", D("120.00"), D("0.00"), "frozen"),
    ]
    assert SupplyShare.objects.filter(order=order, release_at__isnull=False).count() == 0
    assert wallets(merchant) == [
        ("fruit", D("60.00"), D("0"), D("0"), D("0")),
        ("tea", D("120.00"), D("0"), D("0"), D("0")),
    ]
    journal = Journal.objects.get(key=f"order:{order.pk}:supply")
    assert sorted(journal.entries.values_list("account", "amount")) == [
        (LedgerEntry.Account.MERCHANT_PAYABLE, D("-180.00")),
        (LedgerEntry.Account.SUPPLIER_FROZEN, D("60.00")),
        (LedgerEntry.Account.SUPPLIER_FROZEN, D("120.00")),
    ]
    assert ledger_breaches() == []
    call_command("ledger_check", stdout=StringIO())


def test_refunds_and_the_closed_window_end_exactly_where_the_live_paths_end(
    merchant, monkeypatch, django_capture_on_commit_callbacks
):
    """The same history twice: in one store with the suppliers' money live, in another paid and
    refunded before it existed and then backfilled. Shares and wallets end equal to the cent."""
    capture = django_capture_on_commit_callbacks
    live = history(merchant, store_with_goods(merchant), capture)
    assert supply_release_due(now=live.completed_at + timedelta(days=8)) == 2

    old_store = MerchantFactory()
    with monkeypatch.context() as before:
        before.setattr(dropship_handlers, "supply_shares_open", lambda *, order_id: [])
        old = history(old_store, store_with_goods(old_store), capture)
    assert not SupplyShare.objects.filter(order=old).exists()
    assert len(ledger_breaches(merchant_id=old_store.pk)) == 2

    results = list(supply_backfill(now=old.completed_at + timedelta(days=8)))

    assert [(r.order_id, r.owed, r.taken_back, r.released, r.frozen) for r in results] == [
        (old.pk, D("180.00"), D("60.00"), D("120.00"), D("0.00"))
    ]
    expected = [
        ("fruit", D("60.00"), D("0.00"), "released"),  # the store bore the fruit's refund
        ("tea", D("120.00"), D("60.00"), "released"),  # ⌈120 × 99/198⌉ taken back
    ]
    assert shares(live) == shares(old) == expected
    assert (
        wallets(merchant)
        == wallets(old_store)
        == [
            ("fruit", D("0.00"), D("60.00"), D("0"), D("0")),
            ("tea", D("0.00"), D("60.00"), D("0"), D("0")),
        ]
    )
    old_share = SupplyShare.objects.get(order=old, supplier__slug__startswith="tea")
    assert old_share.release_at == old.completed_at + timedelta(days=7)
    assert list(SupplyShareReversal.objects.filter(share=old_share).values_list("amount")) == [
        (D("60.00"),)
    ]
    assert ledger_breaches() == []


def test_an_open_window_or_an_open_case_keeps_the_share_frozen(
    merchant, before_supplier_money, django_capture_on_commit_callbacks
):
    goods = store_with_goods(merchant)
    order = paid_order(merchant, goods)
    complete(merchant, order)  # today: the window is open for seven days

    run()

    assert {share.status for share in SupplyShare.objects.filter(order=order)} == {"frozen"}
    assert {share.release_at for share in SupplyShare.objects.filter(order=order)} == {
        order.completed_at + timedelta(days=7)
    }
    assert ledger_breaches() == []
    # Beat releases it like any other once the window closes.
    assert supply_release_due(now=order.completed_at + timedelta(days=8)) == 2
    assert wallets(merchant) == [
        ("fruit", D("0.00"), D("60.00"), D("0"), D("0")),
        ("tea", D("0.00"), D("120.00"), D("0"), D("0")),
    ]


def test_running_twice_posts_once(merchant, before_supplier_money):
    paid_order(merchant, store_with_goods(merchant))
    run()
    journals = Journal.objects.count()
    entries = LedgerEntry.objects.count()

    out, err = run()

    assert out.splitlines() == [
        "supply backfill posted: 0 order(s), owed 0.00, taken back 0.00, released 0.00"
    ]
    assert (Journal.objects.count(), LedgerEntry.objects.count()) == (journals, entries)
    assert SupplyShare.objects.count() == 2
    assert supply_backfill_pending() == []


def test_a_dry_run_shows_the_figures_and_posts_nothing(merchant, before_supplier_money):
    order = paid_order(merchant, store_with_goods(merchant))
    journals = Journal.objects.count()

    out, _err = run("--dry-run")

    assert out.splitlines()[-1] == (
        "supply backfill would post: 1 order(s), owed 180.00, taken back 0.00, released 0.00"
    )
    assert Journal.objects.count() == journals
    assert not SupplyShare.objects.exists()
    assert not SupplierWallet.objects.exists()
    assert supply_backfill_pending() == [(merchant.pk, order.pk)]


def test_one_store_only_and_an_unknown_store_is_one_line(merchant, before_supplier_money):
    order = paid_order(merchant, store_with_goods(merchant))
    other = MerchantFactory()
    other_order = paid_order(other, store_with_goods(other))

    run("--merchant", other.slug)

    assert supply_backfill_pending() == [(merchant.pk, order.pk)]
    assert SupplyShare.objects.filter(order=other_order).count() == 2
    with pytest.raises(CommandError, match="No merchant has the slug"):
        run("--merchant", "nobody")


def test_shares_lost_after_their_journal_are_refused_and_nothing_posted(merchant):
    goods = store_with_goods(merchant)
    broken = paid_order(merchant, goods)  # paid with the suppliers' money live
    SupplyShare.objects.filter(order=broken).delete()
    journals = Journal.objects.count()

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 order"):
        call_command("supply_backfill", stdout=out, stderr=err)

    assert err.getvalue().splitlines() == [
        f"order {broken.number} (merchant {merchant.pk}): its supply journal was posted but "
        "supplied lines have no share"
    ]
    assert not SupplyShare.objects.filter(order=broken).exists()
    assert Journal.objects.count() == journals
