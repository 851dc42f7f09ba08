"""``manage.py seed_demo``: the demo data a newcomer walks through (dev only).

Everything is made through the services a real user would trigger — merchants, distributors joining
by invite code, customers bound by share link, carts, orders, sandbox payments with a signed
notification, shipping, completion and settlement — so every row is consistent with the money rules.
The catalogue goes through the product services too. The only direct writes are the timestamps of
the "weeks ago" history, moved into the past together so that one old order's commission is due
and can be released by ``commissions_release_due``.

Settlement runs in this process (``commission_settle_order``); the task that ``order_complete``
enqueues on commit runs eagerly here and finds nothing left to do, so no worker is needed.

Idempotent: when the demo merchants exist, nothing is written and the logins are printed again.
"""

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from apps.accounts.models import User
from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.commissions.services import commission_settle_order, commissions_release_due
from apps.distributors.models import CustomerBinding, Distributor, TierCondition
from apps.distributors.services import binding_bind, distributor_join
from apps.distributors.tiers import tier_evaluate, tier_save
from apps.materials.models import Material
from apps.materials.services import material_read_record
from apps.merchants.models import Merchant
from apps.merchants.services import merchant_application_submit, merchant_create
from apps.orders.models import Order, OrderStatusChange
from apps.orders.services import (
    Recipient,
    cart_add_item,
    order_cancel,
    order_complete,
    order_place_from_cart,
    order_ship,
)
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_refund_no,
    sandbox_refund_notification_body,
    sandbox_sign,
)
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Product, Sku
from apps.products.services import product_create, sku_create
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

DEMO_PASSWORD = "fenxiao-demo"
TEA, FRUIT = "demo-tea", "demo-fruit"
APPLICATION_SLUG = "demo-bakery"


@dataclass(frozen=True)
class DemoUser:
    username: str
    nickname: str
    role: str


USERS = [
    DemoUser("admin", "平台运营", "platform operator (superuser): all stores, applications"),
    DemoUser("tea_admin", "茗香掌柜", "staff of 茗香茶庄 (demo-tea) in the admin"),
    DemoUser("fruit_admin", "鲜果园店长", "staff of 鲜果园 (demo-fruit) in the admin"),
    DemoUser("tea_d1", "茶友·林", "distributor, demo-tea, root of the chain"),
    DemoUser("tea_d2", "茶友·周", "distributor, demo-tea, invited by tea_d1"),
    DemoUser("tea_d3", "茶友·吴", "distributor, demo-tea, invited by tea_d2"),
    DemoUser("tea_d4", "茶友·郑", "distributor, demo-tea, invited by tea_d3"),
    DemoUser("fruit_d1", "果友·孙", "distributor, demo-fruit, root"),
    DemoUser("fruit_d2", "果友·钱", "distributor, demo-fruit, invited by fruit_d1"),
    DemoUser("alice", "爱丽丝", "consumer; bound to tea_d4 (demo-tea)"),
    DemoUser("bob", "小博", "consumer; bound to tea_d2 (demo-tea) and fruit_d1 (demo-fruit)"),
    DemoUser("carol", "可可", "consumer; bound to fruit_d2 (demo-fruit)"),
]
APPLICANT = DemoUser(
    "bakery_owner", "王芳", "merchant applicant, application pending review (no admin access yet)"
)

STORES = [
    (TEA, "茗香茶庄", "tea_admin", "杭州龙井村自有茶园直供：龙井、乌龙、普洱、白茶与茶具。"),
    (FRUIT, "鲜果园", "fruit_admin", "产地直发的当季水果，坏果包赔。"),
]

# store → [(product, description, [(sku name, sku code, price, stock)])]
CATALOGUE: dict[str, list[tuple[str, str, list[tuple[str, str, str, int]]]]] = {
    TEA: [
        (
            "西湖龙井·明前特级",
            "狮峰山核心产区，明前手工炒制，豆香馥郁。",
            [
                ("50g 罐装", "TEA-LJ-50", "128.00", 200),
                ("250g 礼盒", "TEA-LJ-250", "568.00", 60),
            ],
        ),
        (
            "安溪铁观音·清香型",
            "兰花香高扬，回甘持久，适合日常口粮。",
            [
                ("125g 袋装", "TEA-TGY-125", "88.00", 300),
                ("500g 罐装", "TEA-TGY-500", "298.00", 80),
            ],
        ),
        (
            "云南普洱熟茶饼 357g",
            "勐海古树料，渥堆发酵，汤色红浓。",
            [
                ("2016 年", "TEA-PE-2016", "238.00", 40),
                ("2019 年", "TEA-PE-2019", "168.00", 120),
            ],
        ),
        (
            "武夷山大红袍",
            "正岩产区，传统炭焙，岩韵明显。",
            [
                ("100g 罐装", "TEA-DHP-100", "158.00", 150),
            ],
        ),
        (
            "福鼎白茶·白牡丹",
            "一芽二叶，毫香蜜韵，可存可饮。",
            [
                ("100g 饼", "TEA-BMD-100", "98.00", 200),
                ("300g 礼盒", "TEA-BMD-300", "268.00", 50),
            ],
        ),
        (
            "汝窑功夫茶具套装",
            "一壶四杯一公道，开片温润，送礼佳品。",
            [
                ("天青色", "TEA-RY-TQ", "189.00", 30),
                ("月白色", "TEA-RY-YB", "189.00", 30),
                ("豆青色", "TEA-RY-DQ", "199.00", 20),
            ],
        ),
    ],
    FRUIT: [
        (
            "赣南脐橙",
            "江西赣州果园现摘，果肉脆甜多汁。",
            [
                ("5 斤装", "FR-QC-5", "39.90", 500),
                ("10 斤装", "FR-QC-10", "69.90", 300),
            ],
        ),
        (
            "阳光玫瑰青提",
            "云南产区，玫瑰香浓，无籽脆甜。",
            [
                ("2 斤装", "FR-YG-2", "59.90", 200),
            ],
        ),
        (
            "海南贵妃芒",
            "树上自然熟，香甜细腻。",
            [
                ("3 斤装", "FR-MG-3", "45.80", 250),
                ("5 斤装", "FR-MG-5", "69.80", 150),
            ],
        ),
        (
            "烟台红富士苹果",
            "栖霞山地果园，冰糖心。",
            [
                ("5 斤装", "FR-PG-5", "49.90", 400),
                ("10 斤装", "FR-PG-10", "88.00", 200),
            ],
        ),
        (
            "丹东 99 草莓",
            "冷链直发，个大饱满。",
            [
                ("1 斤装", "FR-CM-1", "79.00", 100),
                ("2 斤装", "FR-CM-2", "149.00", 60),
            ],
        ),
        (
            "四川爱媛果冻橙",
            "果肉如果冻般嫩滑，一剥即开。",
            [
                ("5 斤装", "FR-GD-5", "59.90", 300),
            ],
        ),
    ],
}

# (store, distributor, inviter or None)
DISTRIBUTORS = [
    (TEA, "tea_d1", None),
    (TEA, "tea_d2", "tea_d1"),
    (TEA, "tea_d3", "tea_d2"),
    (TEA, "tea_d4", "tea_d3"),
    (FRUIT, "fruit_d1", None),
    (FRUIT, "fruit_d2", "fruit_d1"),
]
# (store, customer, distributor whose share link they came through)
BINDINGS = [
    (TEA, "alice", "tea_d4"),
    (TEA, "bob", "tea_d2"),
    (FRUIT, "bob", "fruit_d1"),
    (FRUIT, "carol", "fruit_d2"),
]
RECIPIENTS = {
    "alice": Recipient("李爱丽", "13800138001", "上海市徐汇区漕溪北路 88 号 1201 室"),
    "bob": Recipient("王博", "13800138002", "北京市朝阳区建国路 93 号万达广场 B 座 1605"),
    "carol": Recipient("陈可", "13800138003", "广州市天河区体育西路 191 号 2 栋 702"),
}

PENDING, PAID, SHIPPED = "pending_payment", "paid", "shipped"
COMPLETED, RELEASED, CANCELLED = "completed", "completed_released", "cancelled"


@dataclass(frozen=True)
class DemoOrder:
    store: str
    customer: str
    lines: tuple[tuple[str, int], ...]
    outcome: str
    note: str = ""


ORDERS = [
    # Completed weeks ago: its commission (tea_d4 L1, tea_d3 L2, tea_d2 L3) is already available.
    DemoOrder(TEA, "alice", (("TEA-LJ-50", 2), ("TEA-RY-TQ", 1)), RELEASED, "送朋友的，请包装好"),
    # Completed today: the same three distributors' commission is frozen for the plan's freeze days.
    DemoOrder(TEA, "alice", (("TEA-TGY-125", 1), ("TEA-BMD-300", 1)), COMPLETED),
    DemoOrder(TEA, "bob", (("TEA-PE-2016", 1),), SHIPPED),
    DemoOrder(TEA, "carol", (("TEA-DHP-100", 2),), CANCELLED),
    DemoOrder(FRUIT, "carol", (("FR-CM-2", 1), ("FR-YG-2", 1)), COMPLETED),
    DemoOrder(FRUIT, "bob", (("FR-QC-10", 1), ("FR-PG-5", 1)), PAID, "工作日白天送货"),
    DemoOrder(FRUIT, "carol", (("FR-MG-5", 1),), PENDING),
]
STORE_STAFF = {slug: staff for slug, _name, staff, _description in STORES}
SHIPPING = {TEA: ("顺丰速运", "SF"), FRUIT: ("京东物流", "JD")}


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
            User.objects.filter(username__in=[u.username for u in [*USERS, APPLICANT]])
            .exclude(username="admin", is_superuser=True)
            .values_list("username", flat=True)
        )
        if taken:
            raise CommandError(
                f"These usernames exist already: {', '.join(taken)}. seed_demo creates them itself."
            )

        self.now = timezone.now()
        self.users: dict[str, User] = {}
        self.merchants: dict[str, Merchant] = {}
        self.distributors: dict[str, Distributor] = {}
        self.orders: dict[int, Order] = {}
        steps: list[tuple[str, Callable[[], None]]] = [
            ("accounts", self._create_users),
            ("stores", self._create_stores),
            ("products", self._create_catalogue),
            ("distributors", self._create_distributors),
            ("bindings", self._bind_customers),
            *[
                (f"order {index + 1}/{len(ORDERS)}", lambda index=index: self._run_order(index))
                for index in range(len(ORDERS))
            ],
            ("history", self._backdate_history),
            ("release", self._release_due_commission),
            ("withdrawal rules", self._set_withdrawal_rules),
            ("tiers", self._create_tiers),
            ("refund", self._refund_a_line),
            ("withdrawal", self._pay_a_withdrawal),
            ("application", self._submit_application),
            ("materials", self._create_materials),
        ]
        # order_complete enqueues settlement on commit; run eagerly, it finds the orders already
        # settled (settlement is idempotent), so neither a worker nor a broker is needed.
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
                    total=len(steps),
                    desc="seed_demo",
                    unit="step",
                    file=sys.stderr,
                    disable=options["verbosity"] == 0,
                ) as progress,
                transaction.atomic(),
            ):
                for label, step in steps:
                    progress.set_postfix_str(label)
                    step()
                    progress.update()
        finally:
            celery_conf.task_always_eager = was_eager
            task_log.setLevel(task_log_level)
        products = Product.objects.filter(merchant__slug__in=[TEA, FRUIT]).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(self.merchants)} stores, {products} products, "
                f"{len(self.distributors)} distributors, {len(self.orders)} orders."
            )
        )
        self._print_summary()

    # --- steps ---------------------------------------------------------------------------------

    def _create_users(self) -> None:
        # One hash for the one shared demo password: hashing it per user only makes seeding slower.
        password = make_password(DEMO_PASSWORD)
        for demo in USERS:  # the application service creates the applicant's account
            if demo.username == "admin":
                existing = User.objects.filter(username="admin", is_superuser=True).first()
                if existing is not None:
                    self.users["admin"] = existing
                    continue
            self.users[demo.username] = User.objects.create(
                username=demo.username,
                email=f"{demo.username}@example.com",
                password=password,
                nickname=demo.nickname,
                is_staff=demo.username == "admin",
                is_superuser=demo.username == "admin",
            )

    def _create_stores(self) -> None:
        for slug, name, owner, description in STORES:
            merchant = merchant_create(name=name, slug=slug, owner=self.users[owner])
            merchant.description = description
            merchant.contact_email = f"{owner}@example.com"
            merchant.save(update_fields=["description", "contact_email"])
            self.merchants[slug] = merchant

    def _create_catalogue(self) -> None:
        for slug, products in CATALOGUE.items():
            merchant = self.merchants[slug]
            for position, (name, description, skus) in enumerate(products):
                product = product_create(
                    merchant=merchant, name=name, description=description, sort_order=position
                )
                for sku_name, code, price, stock in skus:
                    sku_create(
                        merchant=merchant,
                        product_id=product.pk,
                        name=sku_name,
                        code=code,
                        price=Decimal(price),
                        stock=stock,
                    )

    def _create_distributors(self) -> None:
        for slug, username, inviter in DISTRIBUTORS:
            self.distributors[username] = distributor_join(
                merchant=self.merchants[slug],
                user=self.users[username],
                invite_code=self.distributors[inviter].invite_code if inviter else None,
            )

    def _bind_customers(self) -> None:
        for slug, customer, distributor in BINDINGS:
            binding_bind(
                merchant=self.merchants[slug],
                customer=self.users[customer],
                invite_code=self.distributors[distributor].invite_code,
            )

    def _run_order(self, index: int) -> None:
        spec = ORDERS[index]
        merchant, customer = self.merchants[spec.store], self.users[spec.customer]
        for code, quantity in spec.lines:
            sku_id = Sku.objects.get(merchant=merchant, code=code).pk
            cart_add_item(merchant=merchant, customer=customer, sku_id=sku_id, quantity=quantity)
        order = order_place_from_cart(
            merchant=merchant,
            customer=customer,
            recipient=RECIPIENTS[spec.customer],
            note=spec.note,
        )
        self.orders[index] = order
        if spec.outcome == PENDING:
            return
        if spec.outcome == CANCELLED:
            order_cancel(order=order, actor=customer, reason="买错规格了，重新下单")
            return
        self._pay(merchant=merchant, customer=customer, order=order)
        if spec.outcome == PAID:
            return
        carrier, prefix = SHIPPING[spec.store]
        order = order_ship(
            merchant=merchant,
            order_id=order.pk,
            carrier=carrier,
            tracking_number=f"{prefix}{order.number[-12:]}",
            actor=self.users[STORE_STAFF[spec.store]],
        )
        if spec.outcome == SHIPPED:
            return
        order_complete(order=order, actor=customer, reason="confirmed by customer")
        commission_settle_order(order_id=order.pk)

    def _pay(self, *, merchant: Merchant, customer: User, order: Order) -> None:
        """What the sandbox provider does: a payment, then its signed asynchronous notification."""
        payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
        body = sandbox_notification_body(
            out_trade_no=payment.out_trade_no,
            provider_trade_no=f"SBX{order.number}",
            amount=payment.amount,
            paid_at=timezone.now(),
        )
        outcome = payment_handle_notification(
            provider="sandbox", body=body, headers={SIGNATURE_HEADER: sandbox_sign(body)}
        )
        if outcome != "paid":
            raise CommandError(f"The sandbox payment of order {order.number} was {outcome!r}.")

    def _backdate_history(self) -> None:
        """Move the demo's past into the past, consistently, so the old order's freeze is over."""
        now = self.now
        merchants = list(self.merchants.values())
        Merchant.objects.filter(pk__in=[m.pk for m in merchants]).update(
            created_at=now - timedelta(days=60)
        )
        User.objects.filter(pk__in=[u.pk for u in self.users.values()]).exclude(
            username="admin"
        ).update(date_joined=now - timedelta(days=45))
        Product.objects.filter(merchant__in=merchants).update(created_at=now - timedelta(days=40))
        for position, distributor in enumerate(self.distributors.values()):
            Distributor.objects.filter(pk=distributor.pk).update(
                joined_at=now - timedelta(days=30) + timedelta(hours=position)
            )
        CustomerBinding.objects.filter(merchant__in=merchants).update(
            bound_at=now - timedelta(days=20)
        )

        index = next(i for i, spec in enumerate(ORDERS) if spec.outcome == RELEASED)
        order = self.orders[index]
        freeze_days = CommissionPlan.objects.get(merchant_id=order.merchant_id).freeze_days
        completed = now - timedelta(days=freeze_days + 2)
        shipped = completed - timedelta(days=2)
        placed = shipped - timedelta(days=1)
        paid = placed + timedelta(minutes=4)
        Order.objects.filter(pk=order.pk).update(
            created_at=placed,
            expires_at=placed + timedelta(minutes=settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES),
            paid_at=paid,
            shipped_at=shipped,
            completed_at=completed,
        )
        history = {PENDING: placed, PAID: paid, SHIPPED: shipped, COMPLETED: completed}
        for status, at in history.items():
            OrderStatusChange.objects.filter(order_id=order.pk, to_status=status).update(
                created_at=at
            )
        Payment.objects.filter(order_id=order.pk).update(
            created_at=placed + timedelta(minutes=2), succeeded_at=paid
        )
        CommissionRecord.objects.filter(order_id=order.pk).update(
            created_at=completed, release_at=completed + timedelta(days=freeze_days)
        )

    def _release_due_commission(self) -> None:
        commissions_release_due()

    def _set_withdrawal_rules(self) -> None:
        """茗香茶庄: minimum ¥10, 0.6 % fee above the first ¥100 of each withdrawal, 20 % tax above
        ¥800, reviewed by staff. 鲜果园 keeps the defaults (¥1 minimum, no fee, no tax)."""
        withdrawal_settings_update(
            merchant=self.merchants[TEA],
            minimum_amount=Decimal("10.00"),
            fee_percent=Decimal("0.60"),
            fee_free_amount=Decimal("100.00"),
            tax_percent=Decimal("20.00"),
            tax_threshold=Decimal("800.00"),
        )

    def _create_tiers(self) -> None:
        """茗香茶庄: 银牌 (rank 1) from ¥300 of own sales in 30 days, 金牌 (rank 2) from ¥2,000 or
        three direct recruits, each kept while its own sales stay above half of that."""
        tea = self.merchants[TEA]
        M = TierCondition.Metric
        tier_save(
            merchant=tea,
            values={"name": "银牌", "rank": 1, "level1_percent": Decimal("12.00")},
            conditions=[
                {"purpose": "upgrade", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("300")},
                {"purpose": "keep", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("150")},
            ],
        )
        tier_save(
            merchant=tea,
            values={
                "name": "金牌",
                "rank": 2,
                "level1_percent": Decimal("15.00"),
                "upgrade_combinator": "any",
            },
            conditions=[
                {"purpose": "upgrade", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("2000")},
                {"purpose": "upgrade", "metric": M.DIRECT_RECRUITS, "threshold": Decimal("3")},
                {"purpose": "keep", "metric": M.OWN_SALES_AMOUNT, "threshold": Decimal("1000")},
            ],
        )
        for distributor in self.distributors.values():
            if distributor.merchant_id == tea.pk:
                tier_evaluate(distributor_id=distributor.pk)

    def _refund_a_line(self) -> None:
        """carol gets one box of 阳光玫瑰青提 of her completed 鲜果园 order refunded (售后): the
        sandbox refunds it and fruit_d2's and fruit_d1's frozen commission on it is taken back."""
        fruit = self.merchants[FRUIT]
        carol = self.users["carol"]
        order = next(
            order
            for index, order in self.orders.items()
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
        case = refund_approve(merchant=fruit, case_id=case.pk, actor=self.users[STORE_STAFF[FRUIT]])
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

    def _pay_a_withdrawal(self) -> None:
        """tea_d4 withdraws ¥20 of the commission already available (within the fee-free band),
        tea_admin approves it and the sandbox pays it out."""
        tea = self.merchants[TEA]
        withdrawal = withdrawal_request(
            merchant=tea,
            distributor=self.distributors["tea_d4"],
            amount=Decimal("20.00"),
            account="alipay:tea_d4@example.com",
        )
        withdrawal_approve(
            merchant=tea, withdrawal_id=withdrawal.pk, actor=self.users[STORE_STAFF[TEA]]
        )
        outcome = withdrawal_pay(withdrawal_id=withdrawal.pk)
        if outcome != "paid":
            raise CommandError(f"The demo withdrawal was {outcome!r}.")

    def _submit_application(self) -> None:
        application = merchant_application_submit(
            username=APPLICANT.username,
            password=DEMO_PASSWORD,
            store_name="麦香烘焙坊",
            slug=APPLICATION_SLUG,
            contact_name="王芳",
            contact_phone="13900001234",
            contact_email="bakery_owner@example.com",
            description="手工面包与节日蛋糕，同城当日配送。",
        )
        User.objects.filter(pk=application.applicant_id).update(nickname=APPLICANT.nickname)

    # --- output --------------------------------------------------------------------------------

    def _create_materials(self) -> None:
        """Two published articles and a draft for 茗香茶庄's distributors; tea_d4 read one."""
        tea = self.merchants[TEA]
        articles = [
            (
                "龙井的冲泡方法",
                "产品知识",
                "水温 80–85℃，玻璃杯下投法。\n\n第一泡 1 分钟，之后每泡加 20 秒。",
                True,
            ),
            (
                "朋友圈分享话术",
                "销售话术",
                "早上好！今年的明前龙井到了，豆香浓，回甘快。\n点我的链接下单，顺丰包邮。",
                True,
            ),
            ("中秋礼盒预告（草稿）", "活动", "礼盒内容待定。", False),
        ]
        for sort, (title, category, body, published) in enumerate(articles):
            material = Material.objects.create(
                merchant=tea,
                kind=Material.Kind.ARTICLE,
                title=title,
                category=category,
                body=body,
                sort=sort,
                is_published=published,
                published_at=self.now if published else None,
            )
            if sort == 0 and "tea_d4" in self.distributors:
                material_read_record(material=material, distributor=self.distributors["tea_d4"])

    def _print_summary(self) -> None:
        site = settings.SITE_URL
        tea = Merchant.objects.get(slug=TEA)
        tea_d4 = Distributor.objects.get(merchant=tea, user__username="tea_d4")
        product = Product.objects.filter(merchant=tea).order_by("sort_order", "id").first()
        share_link = f"{site}/s/{TEA}/p/{product.pk}/?ref={tea_d4.invite_code}" if product else "-"
        alice_orders = Order.objects.filter(merchant=tea, customer__username="alice").order_by("id")
        rows = [
            ("Storefront", f"{site}/s/{TEA}/  ·  {site}/s/{FRUIT}/"),
            ("Admin", f"{site}/admin/"),
            ("API", f"{site}/api/v1/"),
            ("API docs", f"{site}/api/docs/"),
            ("tea_d4's share link", share_link),
        ]
        width = max(len(label) for label, _value in rows)
        lines = ["", "Fenxiao demo", *[f"  {label:<{width}}  {value}" for label, value in rows]]
        lines += ["", f"Logins (password for all: {DEMO_PASSWORD})"]
        admin_existed = not User.objects.filter(username="admin", nickname="平台运营").exists()
        for demo in [*USERS, APPLICANT]:
            role = demo.role
            if demo.username == "admin" and admin_existed:
                role += " — your existing account; its password was not changed"
            lines.append(f"  {demo.username:<13} {role}")
        if alice_orders:
            numbers = ", ".join(order.number for order in alice_orders)
            lines += ["", f"  alice's demo-tea orders (they pay tea_d4, tea_d3, tea_d2): {numbers}"]
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            self.style.WARNING(
                f"\nWARNING: these are demo credentials; the password {DEMO_PASSWORD!r} is public. "
                "Never load demo data into a database that anyone else can reach.\n"
            )
        )


def _celery_conf():  # type: ignore[no-untyped-def]
    from config.celery import app

    return app.conf
