"""Picking supplied goods into a store, keeping picks within the supplier's terms, and shipping."""

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import NotTwoPlaces, parse_two_places
from apps.core.state import compare_and_swap
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderLine
from apps.orders.services import order_transition
from apps.products.models import Product, Sku
from apps.products.services import supplied_product_create, supplied_sku_set_terms
from apps.suppliers.models import Supplier, SupplySku
from apps.suppliers.selectors import supply_catalogue, supply_skus_on_sale

from .floors import merchant_take_percents, retail_floor
from .models import Shipment, ShipmentLine


def supply_floors(*, merchant: Merchant, skus: list[SupplySku]) -> dict[int, Decimal]:
    """The lowest retail price per supply SKU id for this merchant's programme as it stands."""
    cap, fee = merchant_take_percents(merchant)
    return {
        sku.pk: retail_floor(
            supply_price=sku.supply_price,
            min_retail_price=sku.min_retail_price,
            cap_percent=cap,
            fee_percent=fee,
        )
        for sku in skus
    }


def _price(value: object) -> Decimal:
    try:
        price = parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(
            _("A price is a decimal amount such as 12.50."), code="invalid_price"
        ) from error
    if price <= 0:
        raise DomainError(_("The price must be more than 0."), code="invalid_price")
    return price


def supply_pick(
    *, merchant: Merchant, supply_product_id: int, prices: Mapping[int, object]
) -> Product:
    """Pick a catalogue product into the store: its SKUs named in ``prices`` (supply SKU id →
    the store's retail price), each refused below its floor (the supplier's minimum, or the money
    floor). The new product sells at once, from the supplier's stock."""
    supply_product = (
        supply_catalogue().filter(pk=supply_product_id).select_related("supplier").first()
    )
    if supply_product is None:
        raise NotFound(_("No such product in the supply catalogue."), code="unknown_supply_product")
    on_sale = {
        sku.pk: sku for sku in supply_skus_on_sale().filter(product=supply_product).order_by("pk")
    }
    if not prices:
        raise DomainError(_("Price at least one SKU."), code="no_skus")
    unknown = [sku_id for sku_id in prices if sku_id not in on_sale]
    if unknown:
        raise NotFound(_("No such SKU of this product."), code="unknown_supply_sku")
    chosen = [on_sale[sku_id] for sku_id in sorted(prices)]
    floors = supply_floors(merchant=merchant, skus=chosen)
    return supplied_product_create(
        merchant=merchant,
        supply_product=supply_product,
        skus=[(sku, _price(prices[sku.pk]), floors[sku.pk]) for sku in chosen],
    )


def picks_recheck(
    *, supply_sku_ids: tuple[int, ...] | None = None, merchant_id: int | None = None
) -> dict[str, int]:
    """Apply the current terms to store picks — every store's picks of these supply SKUs (the
    supplier changed them), or every pick of one merchant (its commission cap or platform fee
    changed): a new floor, and off sale (and the merchant emailed) where the price no longer
    passes or the supplier stopped selling; back on sale where a held pick passes again. Returns
    counts per outcome."""
    if (supply_sku_ids is None) == (merchant_id is None):
        raise TypeError("picks_recheck takes supply_sku_ids or merchant_id")
    picks_query = Sku.objects.filter(supply_sku__isnull=False)
    if supply_sku_ids is not None:
        picks_query = picks_query.filter(supply_sku_id__in=supply_sku_ids)
    elif merchant_id is not None:
        picks_query = picks_query.filter(merchant_id=merchant_id)
    picks = list(picks_query.select_related("merchant", "product").order_by("pk"))
    pool_ids = {sku.supply_sku_id for sku in picks if sku.supply_sku_id is not None}
    pools = {sku.pk: sku for sku in SupplySku.objects.filter(pk__in=pool_ids)}
    sellable = set(supply_skus_on_sale().filter(pk__in=pool_ids).values_list("pk", flat=True))
    counts: dict[str, int] = defaultdict(int)
    held: dict[int, list[str]] = defaultdict(list)
    takes: dict[int, tuple[Decimal, Decimal]] = {}
    for sku in picks:
        merchant = sku.merchant
        if merchant.pk not in takes:
            takes[merchant.pk] = merchant_take_percents(merchant)
        cap, fee = takes[merchant.pk]
        pool = pools[sku.supply_sku_id]  # type: ignore[index]
        try:
            floor = retail_floor(
                supply_price=pool.supply_price,
                min_retail_price=pool.min_retail_price,
                cap_percent=cap,
                fee_percent=fee,
            )
            ok = pool.pk in sellable
        except DomainError:
            floor, ok = sku.supply_floor or pool.supply_price, False
        outcome = supplied_sku_set_terms(sku_id=sku.pk, floor=floor, sellable=ok)
        counts[outcome] += 1
        if outcome == "held":
            held[merchant.pk].append(
                _("%(sku)s: now at least ¥%(floor)s (your price ¥%(price)s)")
                % {"sku": sku, "floor": floor, "price": sku.price}
                if ok
                else _("%(sku)s: the supplier stopped selling it") % {"sku": sku}
            )
    for merchant_id, lines in held.items():
        _tell_merchant(merchant_id, lines)
    return dict(counts)


def _tell_merchant(merchant_id: int, lines: list[str]) -> None:
    merchant = Merchant.objects.get(pk=merchant_id)
    recipients = sorted(
        {merchant.contact_email}
        | set(
            User.objects.filter(merchant_membership__merchant=merchant)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        - {""}
    )
    if not recipients:
        return
    body = _(
        "The supplier changed its terms. These items of %(store)s are off sale until you price "
        "them again in the back office:\n\n%(lines)s"
    ) % {"store": merchant.name, "lines": "\n".join(lines)}
    subject = _("Supplied items taken off sale")
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))


# --- shipments --------------------------------------------------------------------------------


def shipments_open(*, order_id: int) -> list[Shipment]:
    """When an order with supplied lines is paid: one shipment per supplier and one for the
    store's own goods. Harmless to run twice (one shipment per order and supplier)."""
    lines = list(
        OrderLine.objects.filter(order_id=order_id)
        .order_by("id")
        .only("id", "merchant_id", "supplier_id")
    )
    if not any(line.supplier_id for line in lines):
        return []
    groups: dict[int | None, list[OrderLine]] = defaultdict(list)
    for line in lines:
        groups[line.supplier_id].append(line)
    merchant_id = lines[0].merchant_id
    shipments = []
    for supplier_id in sorted(groups, key=lambda pk: (pk is not None, pk or 0)):
        # supplier_id None is the store's own shipment (the key is nullable); the stubs' lookup
        # check does not know a nullable key's ``_id`` accepts None.
        shipment, created = Shipment.objects.get_or_create(  # type: ignore[misc]
            order_id=order_id, supplier_id=supplier_id, defaults={"merchant_id": merchant_id}
        )
        if created:
            ShipmentLine.objects.bulk_create(
                [
                    ShipmentLine(merchant_id=merchant_id, shipment=shipment, order_line=line)
                    for line in groups[supplier_id]
                ]
            )
        shipments.append(shipment)
    return shipments


def shipment_get_for_supplier(*, supplier: Supplier, shipment_id: int) -> Shipment:
    shipment = Shipment.objects.filter(supplier=supplier, pk=shipment_id).first()
    if shipment is None:
        raise NotFound(_("No such shipment."), code="unknown_shipment")
    return shipment


def shipment_get_for_merchant(*, merchant: Merchant, shipment_id: int) -> Shipment:
    shipment = Shipment.objects.filter(merchant=merchant, pk=shipment_id).first()
    if shipment is None:
        raise NotFound(_("No such shipment."), code="unknown_shipment")
    return shipment


def shipment_ship(
    *, shipment: Shipment, carrier: str, tracking_number: str, actor: User | None
) -> Shipment:
    """Ship one parcel (by whoever holds its goods); the order is shipped with its last parcel.

    The order row is locked first, so two parcels shipped at once cannot both miss being last.
    """
    carrier, tracking_number = carrier.strip()[:64], tracking_number.strip()[:64]
    if not carrier or not tracking_number:
        raise DomainError(_("Carrier and tracking number are required."), code="tracking_required")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        if order.status != Order.Status.PAID:
            raise Conflict(
                _("Only a paid order's parcels can be shipped."), code="invalid_transition"
            )
        now = timezone.now()
        if not compare_and_swap(
            Shipment.objects,
            pk=shipment.pk,
            field="status",
            old=Shipment.Status.PENDING,
            new=Shipment.Status.SHIPPED,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
            shipped_by=actor,
        ):
            raise Conflict(_("This parcel has been shipped already."), code="already_shipped")
        shipment.refresh_from_db()
        unshipped = Shipment.objects.filter(order=order, status=Shipment.Status.PENDING).exists()
        if not unshipped:
            parcels = list(
                Shipment.objects.filter(order=order)
                .order_by("id")
                .values_list("carrier", "tracking_number")
            )
            # The order keeps every parcel's carrier and tracking (the consumer sees each parcel).
            carriers = " / ".join(dict.fromkeys(carrier for carrier, _number in parcels))
            numbers = " / ".join(number for _carrier, number in parcels)
            order_transition(
                order=order,
                new=Order.Status.SHIPPED,
                actor=actor,
                reason=_("every parcel shipped"),
                shipped_at=now,
                shipping_carrier=carriers[:64],
                tracking_number=numbers[:64],
            )
    return shipment
