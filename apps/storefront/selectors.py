"""Reads for the storefront pages, each shaped so a page costs the same queries for 1 row or 100."""

from decimal import Decimal

from django.db.models import (
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.commissions.models import CommissionRecord, CommissionReversal
from apps.distributors.models import Distributor
from apps.dropship.models import Shipment
from apps.ledger.models import Wallet
from apps.marketing.pricing import LineInput, ShownPrice, shown_prices
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderLine, OrderStatusChange
from apps.payments.models import Payment
from apps.products.models import Product, Sku

ON_SALE_SKU = Q(skus__is_active=True)


def storefront_products(*, merchant: Merchant) -> "QuerySet[Product]":
    """Products on sale, annotated with ``lowest_price`` and ``stock_total`` of their on-sale SKUs.

    A product without any SKU on sale is not shown.
    """
    return (
        Product.objects.filter(merchant=merchant, is_active=True)
        .annotate(
            lowest_price=Min("skus__price", filter=ON_SALE_SKU),
            # a picked SKU sells its supplier's pool
            stock_total=Sum(Coalesce("skus__supply_sku__stock", "skus__stock"), filter=ON_SALE_SKU),
        )
        .filter(lowest_price__isnull=False)
        .order_by("sort_order", "id")
    )


def storefront_product(*, merchant: Merchant, product_id: int) -> Product | None:
    """One product on sale with its on-sale SKUs prefetched as ``skus_on_sale``."""
    return (
        Product.objects.filter(merchant=merchant, is_active=True, pk=product_id)
        .prefetch_related(
            Prefetch(
                "skus",
                queryset=Sku.objects.filter(merchant=merchant, is_active=True)
                .select_related("supply_sku")
                .order_by("price", "id"),
                to_attr="skus_on_sale",
            )
        )
        .first()
    )


def customer_orders(*, merchant: Merchant, customer: User) -> "QuerySet[Order]":
    return (
        Order.objects.filter(merchant=merchant, customer=customer)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-id")
    )


def order_details(*, order: Order) -> dict:
    """Lines, status history and the payment currently awaiting its provider's confirmation."""
    return {
        "lines": list(
            OrderLine.objects.filter(order=order).prefetch_related("adjustments").order_by("id")
        ),
        "history": list(OrderStatusChange.objects.filter(order=order).order_by("id")),
        "pending_payment": Payment.objects.filter(
            order=order, status=Payment.Status.PENDING
        ).first(),
        # 一件代发: an order with supplied lines travels as several parcels
        "shipments": list(
            Shipment.objects.filter(order=order)
            .select_related("supplier")
            .prefetch_related("lines__order_line")
            .order_by("id")
        ),
    }


def _line(sku_id: int, product_id: int, price: Decimal, floor: Decimal | None) -> LineInput:
    return LineInput(
        sku_id=sku_id, product_id=product_id, quantity=1, unit_price=price, floor=floor
    )


def product_prices_shown(*, merchant: Merchant, customer: User | None, product: Product) -> None:
    """Set ``shown`` (``ShownPrice``) on each of ``product.skus_on_sale``: the price this visitor
    pays (member, limited-time, flash). One query when nothing is on offer."""
    skus: list[Sku] = getattr(product, "skus_on_sale", [])
    if not skus:
        return
    shown = shown_prices(
        merchant=merchant,
        customer=customer,
        lines=[_line(sku.pk, product.pk, sku.price, sku.price_floor) for sku in skus],
    )
    for sku in skus:
        sku.shown = shown[sku.pk]  # type: ignore[attr-defined]


def catalogue_prices_shown(
    *, merchant: Merchant, customer: User | None, products: list[Product]
) -> None:
    """Set ``shown`` on each product: the lowest price this visitor pays among its SKUs on sale
    (``ShownPrice`` of that SKU). Two queries when nothing is on offer, however many products."""
    if not products:
        return
    rows = list(
        Sku.objects.filter(
            merchant=merchant, is_active=True, product_id__in=[p.pk for p in products]
        ).only("id", "product_id", "price", "min_resale_price", "supply_floor")
    )
    shown = shown_prices(
        merchant=merchant,
        customer=customer,
        lines=[_line(sku.pk, sku.product_id, sku.price, sku.price_floor) for sku in rows],
    )
    lowest: dict[int, ShownPrice] = {}
    for sku_id, product_id in ((sku.pk, sku.product_id) for sku in rows):
        price = shown[sku_id]
        held = lowest.get(product_id)
        if held is None or (price.price, not price.discounted) < (held.price, not held.discounted):
            lowest[product_id] = price
    for product in products:
        product.shown = lowest.get(product.pk)  # type: ignore[attr-defined]


def distributor_earnings_state(
    *, merchant: Merchant, user: User
) -> tuple[Distributor, tuple[Wallet, str] | None] | None:
    """The user's distributor in this store (None if they are none), with their wallet and a
    fingerprint of everything their earnings page shows from the ledger and the commission
    records, all in one query; the state is None while they have no wallet yet.

    The fingerprint moves with every balance (a record earned, released, reversed, withdrawn), the
    newest record, and the count and sum of the reversals (which change a record's reversed
    amount), so a page kept under it is never shown after any of them changed.
    """

    def per_distributor(model):  # type: ignore[no-untyped-def]
        return model.objects.filter(merchant_id=merchant.pk, beneficiary_id=OuterRef("pk")).values(
            "beneficiary_id"
        )

    distributor = (
        Distributor.objects.filter(merchant=merchant, user=user)
        .select_related("wallet")
        .annotate(
            last_record=Subquery(
                per_distributor(CommissionRecord).annotate(last=Max("id")).values("last"),
                output_field=IntegerField(),
            ),
            reversal_count=Subquery(
                per_distributor(CommissionReversal).annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            reversed_sum=Subquery(
                per_distributor(CommissionReversal).annotate(total=Sum("amount")).values("total")
            ),
        )
        .first()
    )
    if distributor is None:
        return None
    try:
        wallet = distributor.wallet
    except Wallet.DoesNotExist:
        return distributor, None
    wallet.reversed_sum = distributor.reversed_sum  # type: ignore[attr-defined]
    fingerprint = ":".join(
        str(value)
        for value in (
            wallet.frozen,
            wallet.available,
            wallet.withdrawing,
            wallet.withdrawn,
            distributor.last_record,  # type: ignore[attr-defined]
            distributor.reversal_count,  # type: ignore[attr-defined]
            distributor.reversed_sum,  # type: ignore[attr-defined]
        )
    )
    return distributor, (wallet, fingerprint)
