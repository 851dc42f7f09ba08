"""``manage.py seed_demo``: the demo data a newcomer walks through (dev only).

The data is made by the steps of ``apps/demo/seed/`` (one module per domain: people, merchants,
catalogue, programme, orders, history, money), which go through the services a real user would
trigger; this command checks it may load them, runs them in order in one transaction, and prints
the logins.

Settlement runs in this process (``commission_settle_orders``); the task that completing an order
enqueues on commit runs eagerly here and finds nothing left to do, so no worker is needed.

Idempotent: when the demo merchants exist, nothing is written and the logins are printed again.
"""

import logging
import sys
from collections.abc import Callable
from unittest import mock

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from apps.accounts.models import User
from apps.demo.seed import (
    catalogue,
    groupbuy,
    history,
    live,
    marketing,
    merchants,
    money,
    orders,
    people,
    programme,
    providers,
    summary,
    supply,
)
from apps.demo.seed.world import DEMO_PASSWORD, FRUIT, TEA, DemoWorld
from apps.merchants.models import Merchant
from apps.payments import tasks as payment_tasks
from apps.products.models import Product

Step = Callable[[DemoWorld], None]


def _order_step(index: int) -> Step:
    return lambda world: orders.run_order(world, index)


STEPS: list[tuple[str, Step]] = [
    ("accounts", people.create_users),
    ("stores", merchants.create_stores),
    ("products", catalogue.create_catalogue),
    ("distributors", programme.create_distributors),
    ("bindings", programme.bind_customers),
    *[
        (f"order {index + 1}/{len(orders.ORDERS)}", _order_step(index))
        for index in range(len(orders.ORDERS))
    ],
    ("history", history.backdate_history),
    ("release", money.release_due_commission),
    ("withdrawal rules", money.set_withdrawal_rules),
    ("tiers", programme.create_tiers),
    ("refund", money.refund_a_line),
    ("withdrawal", money.pay_a_withdrawal),
    ("application", merchants.submit_application),
    ("materials", programme.create_materials),
    ("supplier", supply.create_supplier),
    ("supplied order", supply.order_supplied_goods),
    ("provider accounts", providers.create_provider_accounts),
    ("share-link visits", providers.record_share_visits),
    ("live room", live.create_live_room),
    ("marketing", marketing.create_marketing),
    ("group buy", groupbuy.create_group_buy),
]


class Command(BaseCommand):
    help = "Load the demo stores, people and orders (dev only; idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (the demo logins share a published password).",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load demo data with DEBUG off (production settings?): every demo "
                f"login has the published password {DEMO_PASSWORD!r}. Pass --force to do it anyway."
            )
        present = set(Merchant.objects.filter(slug__in=[TEA, FRUIT]).values_list("slug", flat=True))
        if present == {TEA, FRUIT}:
            self.stdout.write(
                "Demo data is already loaded (stores demo-tea and demo-fruit exist); "
                "nothing was changed."
            )
            self._print_summary()
            return
        if present:
            raise CommandError(
                f"Store {present.pop()!r} exists but the rest of the demo data does not; "
                "seed_demo only loads into a database without it."
            )
        taken = sorted(
            User.objects.filter(
                username__in=[u.username for u in [*people.USERS, people.APPLICANT]]
            )
            .exclude(username="admin", is_superuser=True)
            .values_list("username", flat=True)
        )
        if taken:
            raise CommandError(
                f"These usernames exist already: {', '.join(taken)}. seed_demo creates them itself."
            )

        world = DemoWorld(now=timezone.now())
        # Completing an order enqueues settlement on commit; run eagerly, it finds the orders
        # already settled (settlement is idempotent), so neither a worker nor a broker is needed.
        celery_conf = _celery_conf()
        was_eager = celery_conf.task_always_eager
        celery_conf.task_always_eager = True
        task_log = logging.getLogger("celery.app.trace")
        task_log_level = task_log.level
        task_log.setLevel(logging.WARNING)
        # The demo plays the sandbox provider itself (as it does for payments): it hands the
        # refund notification to the service, so no web server needs to be listening.
        no_delivery = mock.patch.object(
            payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *args: None
        )
        try:
            with (
                no_delivery,
                tqdm(
                    total=len(STEPS),
                    desc="seed_demo",
                    unit="step",
                    file=sys.stderr,
                    disable=options["verbosity"] == 0,
                ) as progress,
                transaction.atomic(),
            ):
                for label, step in STEPS:
                    progress.set_postfix_str(label)
                    step(world)
                    progress.update()
        finally:
            celery_conf.task_always_eager = was_eager
            task_log.setLevel(task_log_level)
        products = Product.objects.filter(merchant__slug__in=[TEA, FRUIT]).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(world.merchants)} stores, {products} products, "
                f"{len(world.distributors)} distributors, {len(world.orders)} orders."
            )
        )
        self._print_summary()

    def _print_summary(self) -> None:
        self.stdout.write(summary.summary_text())
        self.stdout.write(self.style.WARNING(summary.WARNING))


def _celery_conf():  # type: ignore[no-untyped-def]
    from config.celery import app

    return app.conf
