"""Order placement: the Django service against a hand-written psycopg2 floor, side by side.

What is measured: a signed-in consumer's cart of two lines becoming a placed order — stock reserved
with a conditional UPDATE per line, the customer's binding and its upline snapshotted (the customer
is bound to a distributor five deep, so levels 1–3 are all filled), the order, its lines and its
first status-history row written, the cart emptied, committed.

- Django side: ``apps.orders.services.order_place_from_cart`` (the code the storefront and the API
  run).
- Floor: the same writes as hand-written SQL over a bare psycopg2 connection in one transaction
  (BEGIN, SELECT cart items + SKU + product, UPDATE stock per line, SELECT binding + upline, INSERT
  order, INSERT lines (one multi-row statement), INSERT history, DELETE cart items, COMMIT).

The cart is refilled before every order, outside the timed section (both sides, the same way). The
two sides run alternately in rounds, so machine noise falls on both. Statements per order are
counted in a separate, untimed pass (see ``count_django_statements``).

Runs against its own throwaway database ``<DATABASE_URL's name>_bench`` (created, migrated, dropped
at the end), so it never touches dev or test data. Usage::

    DJANGO_SETTINGS_MODULE=config.settings.test python bench/order_placement.py [--orders 2000]

``--supplied``: the cart's first line is a SKU picked from a supplier (一件代发): its stock is the
supplier's one pool, reserved by the same conditional UPDATE on the pool row (joined with the
store's SKU, the supply product and the supplier, under the price floor), and its line snapshots
the supplier and the supply price; the second line is the store's own. The floor does the same.

Targets: Django ≥ 1/3 of the floor's orders/s in one process, ≤ 15 statements per order. Exit
status 1 when the statement target is missed (exact and repeatable), and with ``--strict`` also when
the ratio is (it moves with the machine's load).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import environ  # noqa: E402
import psycopg2  # noqa: E402
from django.utils.translation import gettext  # noqa: E402
from psycopg2 import sql  # noqa: E402

TARGET_RATIO = 1 / 2
TARGET_STATEMENTS = 12
CART = ((0, 2), (1, 1))  # (index of the SKU, quantity): two lines
CHAIN_DEPTH = 5
# --offers: a member level's discount on every line, then a coupon limited to the cart's product
# (an amount off above a threshold), allocated over both lines.
TARGET_RATIO_OFFERS = 1 / 3
TARGET_STATEMENTS_OFFERS = 16
OFFERS_LEVEL = "金卡"
OFFERS_MEMBER_PERCENT = Decimal("5.00")
OFFERS_COUPON = "满500减30"
OFFERS_COUPON_OFF = Decimal("30.00")
OFFERS_COUPON_THRESHOLD = Decimal("500.00")
COUNTED_ORDERS = 20
WARMUP_ORDERS = 50


# --- the throwaway database ------------------------------------------------------------------


def connect_kwargs(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    kwargs = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    # A unix-socket host (the embedded PostgreSQL) arrives as OPTIONS={"host": "/path"}.
    kwargs.update(config.get("OPTIONS", {}))
    return {key: value for key, value in kwargs.items() if value is not None}


def bench_database_url(url: str) -> tuple[str, str]:
    """(URL, name) of the bench database: the same server, ``<name>_bench``."""
    name = environ.Env.db_url_config(url)["NAME"] + "_bench"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name)), name


def admin_execute(url: str, statement: sql.Composable) -> None:
    kwargs = connect_kwargs(url)
    kwargs["dbname"] = "postgres"
    connection = psycopg2.connect(**kwargs)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def drop_database(url: str, name: str) -> None:
    admin_execute(
        url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def create_database(url: str, name: str) -> None:
    drop_database(url, name)
    admin_execute(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- fixtures (made through the services, like real data) -------------------------------------


class Fixture:
    def __init__(self, *, orders: int, supplied: bool = False, offers: bool = False) -> None:
        from apps.accounts.models import User
        from apps.distributors.services import distributor_join
        from apps.merchants.services import merchant_create
        from apps.orders.services import Recipient, cart_get_or_create
        from apps.products.models import Product, Sku
        from apps.programme.binding import customer_bind

        owner = User.objects.create_user("bench_owner")
        self.merchant = merchant_create(name="Bench store", slug="bench-store", owner=owner)
        product = Product.objects.create(merchant=self.merchant, name="西湖龙井")
        stock = (orders + WARMUP_ORDERS + COUNTED_ORDERS + 100) * 2 * 10
        self.skus = Sku.objects.bulk_create(
            Sku(
                merchant=self.merchant,
                product=product,
                name=name,
                code=code,
                price=price,
                stock=stock,
            )
            for name, code, price in (
                ("50g", "LJ-50", Decimal("128.00")),
                ("250g", "LJ-250", Decimal("568.00")),
            )
        )
        self.pool = None
        if supplied:
            self.skus[0], self.pool = self._supplied_sku(stock)
        chain = [
            distributor_join(merchant=self.merchant, user=User.objects.create_user("bench_d1"))
        ]
        for level in range(2, CHAIN_DEPTH + 1):
            chain.append(
                distributor_join(
                    merchant=self.merchant,
                    user=User.objects.create_user(f"bench_d{level}"),
                    invite_code=chain[-1].invite_code,
                )
            )
        self.chain = chain
        self.customers = {}
        self.carts = {}
        for side in ("django", "floor"):
            customer = User.objects.create_user(f"bench_{side}_customer")
            customer_bind(
                merchant=self.merchant, customer=customer, invite_code=chain[-1].invite_code
            )
            self.customers[side] = customer
            self.carts[side] = cart_get_or_create(merchant=self.merchant, customer=customer)
        self.recipient = Recipient("李雷", "13800000000", "上海市南京东路 1 号")
        self.coupon = None
        if offers:
            self.coupon = self._offers(product)

    def _offers(self, product):  # type: ignore[no-untyped-def]
        """Both customers members at a level with a discount, and a coupon batch limited to the
        cart's product (``--offers``): each order gets its own coupon from it (see ``refill``)."""
        from apps.marketing.models import Coupon
        from apps.members.models import Member, MemberLevel

        level = MemberLevel.objects.create(
            merchant=self.merchant, name=OFFERS_LEVEL, discount_percent=OFFERS_MEMBER_PERCENT
        )
        for customer in self.customers.values():
            Member.objects.create(merchant=self.merchant, user=customer, level=level)
        coupon = Coupon.objects.create(
            merchant=self.merchant,
            name=OFFERS_COUPON,
            kind=Coupon.Kind.AMOUNT,
            amount_off=OFFERS_COUPON_OFF,
            threshold=OFFERS_COUPON_THRESHOLD,
            valid_days=7,
            total_quantity=10**7,
            per_person_limit=10**7,
            scope=Coupon.Scope.PRODUCTS,
        )
        coupon.products.set([product])
        return coupon

    def _supplied_sku(self, stock: int):  # type: ignore[no-untyped-def]
        """A supplier's SKU with a deep pool, picked by the store at its own price."""
        from apps.dropship.services import supply_pick
        from apps.suppliers.models import Supplier, SupplyProduct, SupplySku

        supplier = Supplier.objects.create(name="Bench supplier", slug="bench-supplier")
        product = SupplyProduct.objects.create(supplier=supplier, name="椴树雪蜜")
        pool = SupplySku.objects.create(
            supplier=supplier,
            product=product,
            name="500g",
            code="HV-500",
            supply_price=Decimal("60.00"),
            min_retail_price=Decimal("80.00"),
            suggested_retail_price=Decimal("99.00"),
            stock=stock,
        )
        picked = supply_pick(
            merchant=self.merchant, supply_product_id=product.pk, prices={pool.pk: "128.00"}
        )
        return picked.skus.get(), pool

    def refill(self, side: str) -> None:
        """Two lines in the side's cart (untimed: it is the consumer's shopping, not the order);
        with ``--offers`` also one unused coupon, claimed as in the coupon centre."""
        from apps.marketing.services import coupon_grant
        from apps.orders.models import CartItem

        CartItem.objects.bulk_create(
            CartItem(
                merchant=self.merchant,
                cart=self.carts[side],
                sku=self.skus[index],
                quantity=quantity,
            )
            for index, quantity in CART
        )
        if self.coupon is not None:
            coupon_grant(coupon=self.coupon, customer=self.customers[side])

    def expected_upline(self) -> tuple[int, int, int]:
        return (self.chain[-1].pk, self.chain[-2].pk, self.chain[-3].pk)


# --- the two sides ----------------------------------------------------------------------------


class DjangoSide:
    name = "django"

    def __init__(self, fixture: Fixture) -> None:
        from apps.orders.services import order_place_from_cart

        self.fixture = fixture
        self.place_from_cart = order_place_from_cart

    def place(self) -> int:
        from apps.tenancy.scope import tenant_scope

        # In the store's scope, as the storefront's middleware runs the checkout (row-level
        # security; FENXIAO_ROW_LEVEL_SECURITY=false measures without it).
        with tenant_scope(self.fixture.merchant):
            order = self.place_from_cart(
                merchant=self.fixture.merchant,
                customer=self.fixture.customers["django"],
                recipient=self.fixture.recipient,
            )
        return order.pk


LOCK_CART = "SELECT id FROM orders_cart WHERE merchant_id = %s AND customer_id = %s FOR UPDATE"
SELECT_CART = """
SELECT ci.id, ci.quantity, s.id, s.name, s.price, s.is_active, p.id, p.name, p.is_active,
       s.supply_sku_id
FROM orders_cartitem ci
JOIN orders_cart c ON c.id = ci.cart_id
JOIN products_sku s ON s.id = ci.sku_id
JOIN products_product p ON p.id = s.product_id
WHERE ci.merchant_id = %s AND c.customer_id = %s
ORDER BY ci.sku_id
"""
RESERVE_STOCK = """
UPDATE products_sku SET stock = stock - %s WHERE id = %s AND stock >= %s AND is_active
"""
RESERVE_POOL = """
UPDATE suppliers_supplysku AS pool SET stock = pool.stock - %s
FROM products_sku AS sku, suppliers_supplyproduct AS product, suppliers_supplier AS supplier
WHERE sku.id = %s AND pool.id = sku.supply_sku_id AND pool.stock >= %s
  AND product.id = pool.product_id AND supplier.id = pool.supplier_id
  AND sku.is_active AND pool.is_active AND product.is_listed AND NOT product.removed_by_platform
  AND supplier.status = 'active' AND sku.price >= sku.supply_floor
  AND sku.price >= pool.min_retail_price
RETURNING sku.price, pool.supply_price, pool.supplier_id
"""
INSERT_ORDER = """
INSERT INTO orders_order (
    merchant_id, number, customer_id, status, goods_amount, discount_amount, shipping_amount,
    payable_amount, distributor_id, level2_distributor_id, level3_distributor_id,
    commission_status, recipient_name, recipient_phone, recipient_phone_index, shipping_address,
    note, shipping_carrier, tracking_number, price_channel, created_at, expires_at
) VALUES (
    %s, %s, %s, 'pending_payment', %s, %s, 0, %s, %s, %s, %s, 'none', %s, %s, %s, %s, %s, '', '', '',
    %s, %s
) RETURNING id
"""
INSERT_LINES = """
INSERT INTO orders_orderline (
    merchant_id, order_id, sku_id, product_id, product_name, sku_name, unit_price, quantity,
    discount_amount, paid_amount, supplier_id, supply_unit_price
) VALUES {}
"""
INSERT_HISTORY = """
INSERT INTO orders_orderstatuschange (
    merchant_id, order_id, from_status, to_status, actor_id, reason, created_at
) VALUES (%s, %s, '', 'pending_payment', %s, '', %s)
"""
DELETE_CART_ITEMS = "DELETE FROM orders_cartitem WHERE id = ANY(%s)"
# --offers: the customer's usable coupons with their batch, the batches' product scopes, the
# breakdown rows, the coupon's use (the pricing pipeline's coupon step and pricing_commit).
SELECT_COUPONS = """
SELECT g.id, g.valid_until, c.id, c.name, c.kind, c.amount_off, c.threshold, c.scope, c.stackable
FROM marketing_coupongrant g
JOIN marketing_coupon c ON c.id = g.coupon_id
WHERE g.merchant_id = %s AND g.customer_id = %s AND g.status = 'available'
  AND g.valid_from <= %s AND g.valid_until > %s AND c.is_active
ORDER BY g.valid_until, g.id
"""
SELECT_COUPON_PRODUCTS = """
SELECT coupon_id, product_id FROM marketing_coupon_products WHERE coupon_id = ANY(%s)
"""
INSERT_ADJUSTMENTS = """
INSERT INTO orders_orderlineadjustment (
    merchant_id, order_id, line_id, step, label, amount, position
) VALUES {}
"""
USE_COUPON = """
UPDATE marketing_coupongrant SET status = 'used', order_id = %s, used_at = %s
WHERE id = %s AND merchant_id = %s AND customer_id = %s AND status = 'available'
  AND valid_until > %s
"""
CENT = Decimal("0.01")


class FloorSide:
    """The same writes, by hand, in one transaction over a bare psycopg2 connection."""

    name = "floor"

    def __init__(self, fixture: Fixture, url: str, ttl_minutes: int) -> None:
        self.merchant_id = fixture.merchant.pk
        self.customer_id = fixture.customers["floor"].pk
        self.recipient = fixture.recipient
        self.ttl = timedelta(minutes=ttl_minutes)
        self.connection = psycopg2.connect(**connect_kwargs(url))
        self.connection.autocommit = True  # BEGIN and COMMIT are sent explicitly, and counted
        self.cursor = self.connection.cursor()
        self.statements: Counter[str] | None = None
        self.offers = fixture.coupon is not None
        # Mirrors the Django path: set when order_place_from_cart locks the cart row first.
        self.lock_cart = False
        # The two reads the Django path sends as hand-written SQL already: what is on offer
        # (apps.marketing.pricing.on_offer) and the upline with the programme's self-purchase
        # flag (placement's _upline_snapshot). The same statements, sent by hand here.
        from apps.distributors.models import Distributor
        from apps.marketing.models import CouponGrant, Promotion
        from apps.marketing.pricing import _on_offer_sql
        from apps.orders.services.placement import _upline_sql

        self.offer_sql = _on_offer_sql()
        self.offer_params = {
            "merchant": self.merchant_id,
            "customer": self.customer_id,
            "limited": Promotion.Kind.LIMITED_PRICE.value,
            "full_reduction": Promotion.Kind.FULL_REDUCTION.value,
            "available": CouponGrant.Status.AVAILABLE.value,
        }
        self.upline_sql = _upline_sql()
        self.upline_params = {
            "merchant": self.merchant_id,
            "customer": self.customer_id,
            "active": Distributor.Status.ACTIVE.value,
        }

    def _execute(self, statement: str, params: tuple | list | dict | None = None) -> None:
        if self.statements is not None:
            kind = statement.split(None, 1)[0].upper()
            self.statements["SELECT … FOR UPDATE" if statement is LOCK_CART else kind] += 1
        self.cursor.execute(statement, params)

    def place(self) -> int:
        from apps.core.crypto import encrypt
        from apps.core.personal import phone_index
        from apps.orders.models import RECIPIENT_PHONE

        execute, cursor = self._execute, self.cursor
        execute("BEGIN")
        try:
            if self.lock_cart:
                execute(LOCK_CART, (self.merchant_id, self.customer_id))
                cursor.fetchall()
            execute(SELECT_CART, (self.merchant_id, self.customer_id))
            items = cursor.fetchall()
            if not items:
                raise RuntimeError("empty cart")
            for (
                _item,
                quantity,
                _sku,
                _name,
                _price,
                sku_active,
                _p,
                _pname,
                product_active,
                _pool,
            ) in items:
                if not (sku_active and product_active) or not 1 <= quantity <= 999:
                    raise RuntimeError("not on sale")
            now = datetime.now(UTC)
            # what is on offer for these SKUs and this customer, as the pricing pipeline reads it
            execute(
                self.offer_sql, {**self.offer_params, "skus": [row[2] for row in items], "now": now}
            )
            offers = cursor.fetchone()
            if self.offers:
                # a member with a level, and a coupon of theirs: nothing else on offer
                if any(offers[0:3]) or not offers[3] or offers[6] is None:
                    raise RuntimeError("the floor's store has a coupon and a member level on offer")
            elif any(offers[0:4]) or offers[4] is not None:
                raise RuntimeError("the floor's store has nothing on offer")
            supplies: dict[int, tuple] = {}
            # own SKUs first, then the pools: the Django path's lock order
            for _item, quantity, sku_id, *_rest, pool_id in sorted(
                items, key=lambda row: (row[9] is not None, row[9] or 0, row[2])
            ):
                if pool_id is None:
                    execute(RESERVE_STOCK, (quantity, sku_id, quantity))
                else:
                    execute(RESERVE_POOL, (quantity, sku_id, quantity))
                    row = cursor.fetchone()
                    supplies[sku_id] = (row[2], row[1]) if row else (None, None)
                if cursor.rowcount != 1:
                    raise RuntimeError("out of stock")
            # (list amount, [(step, label, amount off)], paid amount) per line, in cart order
            priced: list[tuple[Decimal, list[tuple[str, str, Decimal]], Decimal]] = [
                ((row[4] * row[1]).quantize(CENT), [], (row[4] * row[1]).quantize(CENT))
                for row in items
            ]
            grant_id = None
            if self.offers:
                grant_id = self._price_offers(items, priced, offers, now)
            execute(self.upline_sql, {**self.upline_params, "now": now})
            row = cursor.fetchone()
            if row[0] and row[1] is not None:  # self-purchase commission, the buyer a distributor
                level1, level2, level3 = row[1:4]
            else:
                chain: list = []
                for distributor_id, user_id in zip(row[4:10:2], row[5:10:2], strict=True):
                    if distributor_id is None or user_id == self.customer_id:
                        break
                    chain.append(distributor_id)
                level1, level2, level3 = (chain + [None, None, None])[:3]
            goods = sum((line[0] for line in priced), Decimal("0"))
            payable = sum((line[2] for line in priced), Decimal("0"))
            number = now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"
            # Personal data is encrypted at rest and the phone gets its blind index, as on the
            # Django side (the same functions: their CPU is part of the work).
            name, phone, address = (
                encrypt(self.recipient.name),
                encrypt(self.recipient.phone),
                encrypt(self.recipient.address),
            )
            phone_key = phone_index(self.recipient.phone, purpose=RECIPIENT_PHONE)
            execute(
                INSERT_ORDER,
                (
                    self.merchant_id,
                    number,
                    self.customer_id,
                    goods,
                    goods - payable,
                    payable,
                    level1,
                    level2,
                    level3,
                    name,
                    phone,
                    phone_key,
                    address,
                    "",
                    now,
                    now + self.ttl,
                ),
            )
            order_id = cursor.fetchone()[0]
            params: list = []
            for (
                (
                    _item,
                    quantity,
                    sku_id,
                    sku_name,
                    price,
                    _a,
                    product_id,
                    product_name,
                    _b,
                    _pool,
                ),
                (list_amount, _adjustments, paid),
            ) in zip(items, priced, strict=True):
                supplier_id, supply_price = supplies.get(sku_id, (None, None))
                params += [
                    self.merchant_id,
                    order_id,
                    sku_id,
                    product_id,
                    product_name,
                    sku_name,
                    price,
                    quantity,
                    list_amount - paid,
                    paid,
                    supplier_id,
                    supply_price,
                ]
            values = ", ".join(["(" + ", ".join(["%s"] * 12) + ")"] * len(items))
            if self.offers:
                execute(INSERT_LINES.format(values) + " RETURNING id", params)
                line_ids = [line[0] for line in cursor.fetchall()]
                rows: list = []
                for line_id, (_list, adjustments, _paid) in zip(line_ids, priced, strict=True):
                    for position, (step, label, amount) in enumerate(adjustments):
                        rows += [self.merchant_id, order_id, line_id, step, label, amount, position]
                values = ", ".join(["(" + ", ".join(["%s"] * 7) + ")"] * (len(rows) // 7))
                execute(INSERT_ADJUSTMENTS.format(values), rows)
                execute(
                    USE_COUPON,
                    (order_id, now, grant_id, self.merchant_id, self.customer_id, now),
                )
                if cursor.rowcount != 1:
                    raise RuntimeError("the coupon was used by another order")
            else:
                execute(INSERT_LINES.format(values), params)
            execute(INSERT_HISTORY, (self.merchant_id, order_id, self.customer_id, now))
            execute(DELETE_CART_ITEMS, ([row[0] for row in items],))
            execute("COMMIT")
        except BaseException:
            self.cursor.execute("ROLLBACK")
            raise
        return order_id

    def _price_offers(self, items: list, priced: list, offers: tuple, now: datetime) -> int:
        """The member level's percent off each unit price (half-up to the cent), then the best
        usable coupon's amount over the lines its product scope covers, allocated pro rata to
        the cent by largest remainder, as the pricing pipeline does. Returns the coupon grant
        used. Only what the bench's store offers: an amount-off coupon limited to products."""
        execute, cursor = self._execute, self.cursor
        level_name, percent = offers[8], offers[9]
        member_label = gettext("%(level)s member price") % {"level": level_name}
        for index, row in enumerate(items):
            quantity, price = row[1], row[4]
            unit = (price * (100 - percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            if unit < price:
                off = ((price - unit) * quantity).quantize(CENT)
                list_amount, adjustments, paid = priced[index]
                adjustments.append(("member", member_label, off))
                priced[index] = (list_amount, adjustments, paid - off)
        execute(SELECT_COUPONS, (self.merchant_id, self.customer_id, now, now))
        grants = cursor.fetchall()
        if not grants:
            raise RuntimeError("no coupon to use")
        execute(SELECT_COUPON_PRODUCTS, ([grant[2] for grant in grants],))
        scopes: dict[int, set[int]] = {}
        for coupon_id, product_id in cursor.fetchall():
            scopes.setdefault(coupon_id, set()).add(product_id)
        best = None
        for (
            grant_id,
            valid_until,
            coupon_id,
            name,
            kind,
            amount_off,
            threshold,
            scope,
            _s,
        ) in grants:
            if kind != "amount" or scope != "products":
                raise RuntimeError("the floor prices only the bench's amount-off product coupon")
            covered = [i for i, row in enumerate(items) if row[6] in scopes.get(coupon_id, ())]
            subtotal = sum((priced[i][2] for i in covered), Decimal("0"))
            if covered and subtotal > 0 and subtotal >= threshold:
                off = min(amount_off, subtotal)
                key = (-off, valid_until, grant_id)
                if best is None or key < best[0]:
                    best = (key, grant_id, name, off, covered)
        if best is None:
            raise RuntimeError("the coupon does not apply")
        _key, grant_id, name, off, covered = best
        # largest remainder, in cents, ties to the earlier line
        weights = [int(priced[i][2] / CENT) for i in covered]
        shares = [divmod(int(off / CENT) * weight, sum(weights)) for weight in weights]
        pieces = [share for share, _rest in shares]
        for rank in sorted(range(len(covered)), key=lambda i: (-shares[i][1], i))[
            : int(off / CENT) - sum(pieces)
        ]:
            pieces[rank] += 1
        for index, piece in zip(covered, pieces, strict=True):
            if piece:
                list_amount, adjustments, paid = priced[index]
                adjustments.append(("coupon", name, piece * CENT))
                priced[index] = (list_amount, adjustments, paid - piece * CENT)
        return grant_id

    def close(self) -> None:
        self.connection.close()


# --- counting statements ----------------------------------------------------------------------


def count_django_statements(side: DjangoSide, fixture: Fixture, orders: int) -> dict:
    """Statements per order on the Django path, by kind.

    ``connection.execute_wrapper`` sees every statement that goes through a cursor (SELECT, INSERT,
    UPDATE, DELETE and also SAVEPOINT / RELEASE SAVEPOINT / ROLLBACK TO SAVEPOINT, which Django
    sends as cursor statements). BEGIN and COMMIT are not cursor statements — psycopg2 sends them
    when Django switches autocommit off and calls ``commit()`` — so they are taken from Django's
    own transaction log (``debug_transaction`` records them in ``connection.queries`` while queries
    are captured). Both are added up.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cursor_statements: Counter[str] = Counter()
    examples: dict[str, str] = {}
    locks_cart = False

    def wrapper(execute, statement, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal locks_cart
        kind = statement.split(None, 1)[0].upper()
        if kind == "SELECT" and 'FROM "orders_cart" ' in statement and "FOR UPDATE" in statement:
            locks_cart = True
            kind = "SELECT … FOR UPDATE"
        if kind == "ROLLBACK" and "SAVEPOINT" in statement.upper():
            kind = "ROLLBACK TO SAVEPOINT"
        cursor_statements[kind] += 1
        examples.setdefault(kind, statement)
        return execute(statement, params, many, context)

    transaction_control: Counter[str] = Counter()
    for _ in range(orders):
        fixture.refill("django")
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(wrapper):
            side.place()
        for query in captured.captured_queries:
            if query["sql"] in ("BEGIN", "COMMIT", "ROLLBACK"):
                transaction_control[query["sql"]] += 1
    total = cursor_statements + transaction_control
    return {
        "per_order": sum(total.values()) / orders,
        "by_kind": {kind: count / orders for kind, count in sorted(total.items())},
        "locks_cart": locks_cart,
        "examples": examples,
    }


def count_floor_statements(side: FloorSide, fixture: Fixture, orders: int) -> dict:
    side.statements = Counter()
    for _ in range(orders):
        fixture.refill("floor")
        side.place()
    total, side.statements = side.statements, None
    return {
        "per_order": sum(total.values()) / orders,
        "by_kind": {kind: count / orders for kind, count in sorted(total.items())},
    }


# --- timing -----------------------------------------------------------------------------------


def timed_batch(
    side: DjangoSide | FloorSide, fixture: Fixture, orders: int, timings: dict[str, list[float]]
) -> None:
    """Wall-clock and this process's CPU time of each placement (refill excluded)."""
    clock, cpu_clock = time.perf_counter, time.process_time
    for _ in range(orders):
        fixture.refill(side.name)
        start, cpu_start = clock(), cpu_clock()
        side.place()
        timings["wall"].append(clock() - start)
        timings["cpu"].append(cpu_clock() - cpu_start)


def summary(timings: dict[str, list[float]]) -> dict:
    wall = timings["wall"]
    ordered = sorted(wall)
    return {
        "orders": len(wall),
        "seconds": sum(wall),
        "orders_per_second": len(wall) / sum(wall),
        "mean_ms": statistics.fmean(wall) * 1000,
        "median_ms": statistics.median(wall) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "python_cpu_ms": statistics.fmean(timings["cpu"]) * 1000,
    }


def verify(fixture: Fixture) -> dict:
    """Both sides wrote the same thing: every order has its two lines, history and the upline."""
    from django.db.models import Count

    from apps.orders.models import CartItem, Order

    expected = fixture.expected_upline()
    rows = Order.objects.annotate(
        line_count=Count("lines", distinct=True),
        history_count=Count("status_changes", distinct=True),
    )
    wrong = [
        order.pk
        for order in rows
        if (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id)
        != expected
        or order.line_count != len(CART)
        or order.history_count != 1
        or order.goods_amount != Decimal("824.00")
    ]
    if wrong:
        raise SystemExit(f"orders written wrongly: {wrong[:10]}")
    if CartItem.objects.exists():
        raise SystemExit("a cart was not emptied")
    if fixture.coupon is not None:
        _verify_offers(fixture)
    if fixture.pool is not None:
        from apps.orders.models import OrderLine
        from apps.suppliers.models import SupplySku

        supplied = OrderLine.objects.filter(sku=fixture.skus[0])
        if supplied.exclude(
            supplier=fixture.pool.supplier_id, supply_unit_price=Decimal("60.00")
        ).exists():
            raise SystemExit("a supplied line lost its supplier snapshot")
        sold = sum(line.quantity for line in supplied)
        if SupplySku.objects.get(pk=fixture.pool.pk).stock != fixture.pool.stock - sold:
            raise SystemExit("the supplier's pool does not match what was sold")
    return {
        side: Order.objects.filter(customer=fixture.customers[side]).count()
        for side in ("django", "floor")
    }


def _verify_offers(fixture: Fixture) -> None:
    """Both sides priced alike: the same discount, breakdown and payable amount on every order,
    each order used its own coupon, and no coupon is left unused."""
    from apps.marketing.models import CouponGrant
    from apps.orders.models import Order, OrderLine, OrderLineAdjustment

    shapes = Counter(Order.objects.values_list("discount_amount", "payable_amount"))
    lines = Counter(OrderLine.objects.values_list("sku_id", "discount_amount", "paid_amount"))
    steps = Counter(
        OrderLineAdjustment.objects.values_list("line__sku_id", "step", "label", "amount")
    )
    orders = Order.objects.count()
    used = CouponGrant.objects.filter(status=CouponGrant.Status.USED)
    if (
        len(shapes) != 1
        or not next(iter(shapes))[0] > 0
        or len(lines) != len(CART)
        or len(steps) != 2 * len(CART)
    ):
        raise SystemExit(f"the two sides priced differently: {shapes}, {lines}, {steps}")
    if used.count() != orders or used.values("order_id").distinct().count() != orders:
        raise SystemExit("an order did not use its own coupon")
    if CouponGrant.objects.exclude(status=CouponGrant.Status.USED).exists():
        raise SystemExit("a coupon was left unused")


def profile_django(side: DjangoSide, fixture: Fixture, orders: int) -> str:
    profiler = cProfile.Profile()
    for _ in range(orders):
        fixture.refill("django")
        profiler.enable()
        side.place()
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
    return out.getvalue()


# --- main -------------------------------------------------------------------------------------


def run(args: argparse.Namespace, bench_url: str) -> dict:
    from django.conf import settings

    load_before = os.getloadavg()
    fixture = Fixture(orders=args.orders, supplied=args.supplied, offers=args.offers)
    with psycopg2.connect(**connect_kwargs(bench_url)) as analyze:
        analyze.autocommit = True
        analyze.cursor().execute("ANALYZE")
    django_side = DjangoSide(fixture)
    floor_side = FloorSide(fixture, bench_url, settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES)
    try:
        sides: list[DjangoSide | FloorSide] = [django_side, floor_side]
        for side in sides:
            timed_batch(side, fixture, WARMUP_ORDERS, {"wall": [], "cpu": []})
        statements = {
            "django": count_django_statements(django_side, fixture, COUNTED_ORDERS),
        }
        floor_side.lock_cart = statements["django"]["locks_cart"]
        statements["floor"] = count_floor_statements(floor_side, fixture, COUNTED_ORDERS)
        timings: dict[str, dict[str, list[float]]] = {
            name: {"wall": [], "cpu": []} for name in ("django", "floor")
        }
        per_round = max(1, args.orders // args.rounds)
        done = 0
        round_number = 0
        while done < args.orders:
            batch = min(per_round, args.orders - done)
            order = sides if round_number % 2 == 0 else sides[::-1]
            for side in order:
                timed_batch(side, fixture, batch, timings[side.name])
            done += batch
            round_number += 1
        profile = profile_django(django_side, fixture, args.profile) if args.profile else None
        written = verify(fixture)
    finally:
        floor_side.close()
    django_result, floor_result = summary(timings["django"]), summary(timings["floor"])
    return {
        "benchmark": "order_placement",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "orders_per_side": args.orders,
        "rounds": round_number,
        "cart_lines": len(CART),
        "supplied_line": args.supplied,
        "offers": args.offers,
        "upline_depth": CHAIN_DEPTH,
        "cart_refill": "before every order, outside the timed section (both sides alike)",
        "row_level_security": settings.FENXIAO_ROW_LEVEL_SECURITY,
        "django": {**django_result, "statements": statements["django"]},
        "floor": {**floor_result, "statements": statements["floor"]},
        "ratio": django_result["orders_per_second"] / floor_result["orders_per_second"],
        "targets": targets(args.offers),
        "orders_written": written,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "profile": profile,
    }


def targets(offers: bool) -> dict:
    """The default run's targets, or ``--offers``': a third of its own floor, and the statements
    the pipeline's coupon step and claim add (the coupon with its product scope, the breakdown,
    the coupon's use) on top of the default's 12."""
    if offers:
        return {
            "ratio_at_least": TARGET_RATIO_OFFERS,
            "statements_at_most": TARGET_STATEMENTS_OFFERS,
        }
    return {"ratio_at_least": TARGET_RATIO, "statements_at_most": TARGET_STATEMENTS}


def report(result: dict) -> tuple[str, bool, bool]:
    django, floor = result["django"], result["floor"]
    load = result["load_average_1min"]
    target_ratio = result["targets"]["ratio_at_least"]
    target_statements = result["targets"]["statements_at_most"]
    ratio_ok = result["ratio"] >= target_ratio
    statements_ok = django["statements"]["per_order"] <= target_statements

    def kinds(statements: dict) -> str:
        return ", ".join(f"{kind} {count:g}" for kind, count in statements["by_kind"].items())

    lines = [
        "",
        "Order placement — cart of 2 lines → order (stock reserved, L1–L3 upline snapshotted)"
        + ("; line 1 supplied (the supplier's pool)" if result["supplied_line"] else "")
        + (
            f"; {OFFERS_MEMBER_PERCENT:g} % member discount and a coupon"
            f" ({OFFERS_COUPON}, limited to the product) on the cart"
            if result.get("offers")
            else ""
        ),
        f"  {result['orders_per_side']} orders per side in {result['rounds']} alternating rounds;"
        " the cart is refilled",
        "  before each order, outside the timed section",
        "  row-level security: "
        + (
            "on (Django side in the store's scope)"
            if result.get("row_level_security", True)
            else "OFF (FENXIAO_ROW_LEVEL_SECURITY=false)"
        ),
        f"  machine: {result['cpus']} CPUs, 1-min load average {load['before']:.1f} before, "
        f"{load['after']:.1f} after",
        "",
        f"  {'':<28}{'orders/s':>10}{'mean ms':>10}{'median ms':>11}{'p95 ms':>9}"
        f"{'cpu ms':>9}{'stmts':>7}",
    ]
    for label, side in (
        ("Django order_place_from_cart", django),
        ("floor (psycopg2, by hand)", floor),
    ):
        lines.append(
            f"  {label:<28}{side['orders_per_second']:>10.0f}{side['mean_ms']:>10.2f}"
            f"{side['median_ms']:>11.2f}{side['p95_ms']:>9.2f}{side['python_cpu_ms']:>9.2f}"
            f"{side['statements']['per_order']:>7g}"
        )
    lines += [
        "",
        f"  ratio Django / floor: {result['ratio']:.2f}  (target ≥ {target_ratio:.2f}: "
        f"{'met' if ratio_ok else 'MISSED'})",
        f"  Django statements per order: {django['statements']['per_order']:g}  (target ≤ "
        f"{target_statements}: {'met' if statements_ok else 'MISSED'})",
        f"    Django: {kinds(django['statements'])}",
        f"    floor:  {kinds(floor['statements'])}",
        "  (floor mirrors the Django path's cart lock: "
        f"{'yes' if django['statements']['locks_cart'] else 'no, Django takes none'})",
        "  (statements include BEGIN, COMMIT and any SAVEPOINT / RELEASE;",
        "   cpu ms = this Python process's CPU time per order, the rest is waiting for PostgreSQL)",
    ]
    if result["profile"]:
        lines += ["", result["profile"]]
    return "\n".join(lines), ratio_ok, statements_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders per side (default 2000)")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds (default 20)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also cProfile N extra Django orders and print the top functions",
    )
    parser.add_argument(
        "--supplied",
        action="store_true",
        help="make the cart's first line a SKU picked from a supplier (its stock the supplier's pool)",
    )
    parser.add_argument(
        "--offers",
        action="store_true",
        help="the customers are members with a level discount and each order uses a new coupon "
        "limited to the cart's product",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 also when the orders/s ratio target is missed"
    )
    args = parser.parse_args()
    if args.orders < 1 or args.rounds < 1:
        parser.error("--orders and --rounds must be at least 1")
    if args.offers and args.supplied:
        parser.error("--offers and --supplied are separate runs (the floor prices one at a time)")
    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        parser.error("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    bench_url, bench_name = bench_database_url(url)
    print(f"bench database {bench_name}: creating and migrating…", flush=True)
    create_database(url, bench_name)
    try:
        os.environ["DATABASE_URL"] = bench_url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from apps.tenancy.scope import platform_scope

        call_command("migrate", verbosity=0)
        try:
            with platform_scope(reason="bench: the fixture and the checks"):
                result = run(args, bench_url)
        finally:
            connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(url, bench_name)
    text, ratio_ok, statements_ok = report(result)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    variant = "-supplied" if args.supplied else "-offers" if args.offers else ""
    path = results / f"order_placement{variant}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\n  written: {path.relative_to(ROOT)}")
    return 0 if statements_ok and (ratio_ok or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
