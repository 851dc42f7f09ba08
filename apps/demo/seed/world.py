"""What the steps of the demo share: the two stores' slugs, the password, and ``DemoWorld``, which
each step reads and adds to."""

from dataclasses import dataclass, field
from datetime import datetime

from apps.accounts.models import User
from apps.distributors.models import Distributor
from apps.merchants.models import Merchant
from apps.orders.models import Order

DEMO_PASSWORD = "fenxiao-demo"
TEA, FRUIT = "demo-tea", "demo-fruit"


@dataclass
class DemoWorld:
    """The people, stores, distributors and orders made so far (by username, slug, index)."""

    now: datetime
    users: dict[str, User] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    distributors: dict[str, Distributor] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
