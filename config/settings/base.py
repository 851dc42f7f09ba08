"""Settings shared by every environment.

Configuration comes from the environment (django-environ). ``DATABASE_URL`` and ``REDIS_URL`` are
required here; ``make run`` / ``make test`` fill them in from the embedded PostgreSQL and Redis
(``config/embedded.py``) when they are not set.
"""

import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import parse_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The public address of this site, used for share links, QR codes and the sandbox
# payment provider's asynchronous notification callback.
SITE_URL = env("FENXIAO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and WebSockets (ASGI) from one address in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "channels",
    # In the layer order (README, "Layout"), lowest first: event handlers run in this order.
    "apps.core",
    "apps.accounts",
    "apps.merchants",
    "apps.tenancy",
    "apps.ledger",
    "apps.suppliers",
    "apps.products",
    "apps.distributors",
    "apps.materials",
    "apps.members",
    "apps.marketing",
    "apps.orders",
    "apps.credentials",
    "apps.payments",
    "apps.refunds",
    "apps.commissions",
    "apps.groupbuy",
    "apps.dropship",
    "apps.withdrawals",
    "apps.finance",
    "apps.webhooks",
    "apps.programme",
    "apps.live",
    "apps.dashboard",
    "apps.storefront",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Header and cookie of every response, the cached store pages' too (below).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.distributors.middleware.DeviceIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A signed-out visitor's cached store page, with their language and CSRF token, before the
    # session's user and the row-level security scope: a hit touches no database.
    "apps.storefront.page_cache.StorePageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Row-level security: the request's merchant, supplier or platform scope (apps/tenancy).
    "apps.tenancy.middleware.TenantScopeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.merchants.middleware.TwoFactorMiddleware",
    "apps.core.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Row-level security (apps/tenancy): the application's sessions SET ROLE to this role, which owns
# no table and cannot bypass the policies; migrations run as the DATABASE_URL user (the owner).
# FENXIAO_ROW_LEVEL_SECURITY=false keeps the owner's connection and sets no scope: for measuring
# the cost only (bench/README.md), never in production.
FENXIAO_DB_APP_ROLE = env("FENXIAO_DB_APP_ROLE", default="fenxiao_app")
FENXIAO_ROW_LEVEL_SECURITY = env.bool("FENXIAO_ROW_LEVEL_SECURITY", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A streaming replica for reads (apps/core/replica.py): safe page and API requests read from it
# while it keeps up; writes, reads in transactions, reads by whoever just wrote, tasks and
# commands stay on the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
FENXIAO_REPLICA_MAX_LAG_SECONDS = env.float("FENXIAO_REPLICA_MAX_LAG_SECONDS", default=5.0)
FENXIAO_REPLICA_CHECK_SECONDS = env.float("FENXIAO_REPLICA_CHECK_SECONDS", default=1.0)
FENXIAO_REPLICA_READ_YOUR_WRITES_SECONDS = env.int(
    "FENXIAO_REPLICA_READ_YOUR_WRITES_SECONDS", default=5
)
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASE_ROUTERS = ["apps.core.replica.ReplicaRouter"]
    MIDDLEWARE.insert(1, "apps.core.replica.ReplicaReadMiddleware")

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("FENXIAO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("FENXIAO_MEDIA_ROOT", default=str(BASE_DIR / "media"))


def redis_urls(url: str) -> tuple[str, str]:
    """Return (redis-py URL, Celery broker URL) for ``REDIS_URL``.

    ``REDIS_URL`` may be ``redis://host:port/db`` or ``unix:///path/to/redis.sock?db=N`` (the embedded
    Redis listens on a unix socket). Celery's Redis transport spells sockets ``redis+socket://``.
    """
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # Celery's socket transport ignores ``db=N`` and reads the database as ``virtual_host``.
        database = parse_qs(parts.query).get("db", ["0"])[0]
        return url, f"redis+socket://{parts.path}?virtual_host={database}"
    if parts.scheme in ("redis", "rediss"):
        return url, url
    raise environ.ImproperlyConfigured(
        f"REDIS_URL must be redis://, rediss:// or unix://, got {url!r}"
    )


REDIS_URL, CELERY_BROKER_URL = redis_urls(env("REDIS_URL"))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Longer than any task may run, so a task whose worker died is redelivered only after it surely stopped.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("FENXIAO_CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's settlement sweeper enqueues completed orders still unsettled this long after completion:
# long enough that it does not race the enqueue made on commit, short enough that a settlement lost
# with a crashed worker (whose message Redis redelivers only after the visibility timeout) is
# redone within minutes.
FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS = env.int(
    "FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS", default=60
)
if FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS < 0:
    raise environ.ImproperlyConfigured("FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS must be 0 or more")
# How many orders one settlement task may settle together when a backlog waits (1: each order in
# its own task). See commission_settle_orders and bench/settlement.py.
FENXIAO_SETTLEMENT_BATCH = env.int("FENXIAO_SETTLEMENT_BATCH", default=50)
if FENXIAO_SETTLEMENT_BATCH < 1:
    raise environ.ImproperlyConfigured("FENXIAO_SETTLEMENT_BATCH must be 1 or more")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "orders-cancel-expired": {"task": "apps.orders.tasks.orders_cancel_expired", "schedule": 60.0},
    "orders-auto-complete": {"task": "apps.orders.tasks.orders_auto_complete", "schedule": 300.0},
    "commissions-release-due": {
        "task": "apps.commissions.tasks.commissions_release_due",
        "schedule": 300.0,
    },
    "dropship-supply-release-due": {
        "task": "apps.dropship.tasks.supply_release_due_task",
        "schedule": 300.0,
    },
    "refunds-retry-approved": {
        "task": "apps.refunds.tasks.refunds_retry_approved",
        "schedule": 120.0,
    },
    "refunds-query-refunding": {
        "task": "apps.refunds.tasks.refunds_query_refunding",
        "schedule": 600.0,
    },
    "commissions-sweep-unsettled": {
        "task": "apps.commissions.tasks.commissions_sweep_unsettled",
        "schedule": 120.0,
    },
    "withdrawals-sweep": {"task": "apps.withdrawals.tasks.withdrawals_sweep", "schedule": 300.0},
    "programme-tiers-evaluate": {
        "task": "apps.programme.tasks.tiers_evaluate_sweep",
        "schedule": 3600.0,
    },
    "programme-threshold-sweep": {
        "task": "apps.programme.tasks.threshold_sweep_task",
        "schedule": 600.0,
    },
    "payments-sweep-splits": {
        "task": "apps.commissions.tasks.payments_sweep_splits",
        "schedule": 600.0,
    },
    "webhooks-sweep": {"task": "apps.webhooks.tasks.webhooks_sweep", "schedule": 60.0},
    # Providers' bills of yesterday (reconciliation): each kept once per merchant, provider, day.
    "payments-statements-download": {
        "task": "apps.payments.tasks.statements_download",
        "schedule": 3600.0,
    },
    "groupbuy-close-expired": {
        "task": "apps.groupbuy.tasks.groups_close_expired",
        "schedule": 60.0,
    },
    "refunds-refund-rate-flags": {
        "task": "apps.refunds.tasks.refund_rate_flags_sweep_task",
        "schedule": 3600.0,
    },
    # Unsold flash-sale units go back to their SKUs within a minute of the sale's end.
    "marketing-flash-sales-close": {
        "task": "apps.marketing.tasks.flash_sales_close",
        "schedule": 60.0,
    },
    "members-points-expire": {"task": "apps.members.tasks.points_expire", "schedule": 3600.0},
}

# Live rooms (apps/live): the channel layer carries every room's messages between server processes
# through Redis pub/sub (one publish per message, each process relays it to its own viewers).
# FENXIAO_CHANNEL_REDIS_URL may point at another Redis or database; by default REDIS_URL.
CHANNEL_REDIS_URL = redis_urls(env("FENXIAO_CHANNEL_REDIS_URL", default=env("REDIS_URL")))[0]


# Redis pub/sub channels ignore the database number: two sites (or two test runs) on one Redis
# server, each with its own Redis database, would hear each other's rooms (room ids overlap). The
# prefix carries that database number, so they don't; FENXIAO_CHANNEL_PREFIX overrides it.
def redis_database(url: str) -> str:
    """The database number of a redis:// (path) or unix:// (``?db=N``) URL; "0" when none."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parse_qs(parts.query).get("db", ["0"])[0]
    return parts.path.strip("/") or "0"


CHANNEL_PREFIX = env(
    "FENXIAO_CHANNEL_PREFIX", default=f"fenxiao.db{redis_database(CHANNEL_REDIS_URL)}"
)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [CHANNEL_REDIS_URL], "prefix": CHANNEL_PREFIX},
    }
}
# Chat: longest message (characters), and at most N messages per user and room in a window of
# seconds; a socket frame longer than FENXIAO_LIVE_MAX_FRAME_BYTES closes that socket (4413).
FENXIAO_LIVE_CHAT_MAX_LENGTH = env.int("FENXIAO_LIVE_CHAT_MAX_LENGTH", default=200)
FENXIAO_LIVE_CHAT_MESSAGES = env.int("FENXIAO_LIVE_CHAT_MESSAGES", default=10)
FENXIAO_LIVE_CHAT_WINDOW_SECONDS = env.int("FENXIAO_LIVE_CHAT_WINDOW_SECONDS", default=10)
FENXIAO_LIVE_MAX_FRAME_BYTES = env.int("FENXIAO_LIVE_MAX_FRAME_BYTES", default=2048)
# A viewer whose socket sent nothing (not even its heartbeat) for this long is no longer counted.
FENXIAO_LIVE_PRESENCE_SECONDS = env.int("FENXIAO_LIVE_PRESENCE_SECONDS", default=60)
for _name in (
    "FENXIAO_LIVE_CHAT_MAX_LENGTH",
    "FENXIAO_LIVE_CHAT_MESSAGES",
    "FENXIAO_LIVE_CHAT_WINDOW_SECONDS",
    "FENXIAO_LIVE_MAX_FRAME_BYTES",
    "FENXIAO_LIVE_PRESENCE_SECONDS",
):
    if globals()[_name] < 1:
        raise environ.ImproperlyConfigured(f"{_name} must be 1 or more")
# Room events reach a socket in one frame per this many milliseconds at most (a `batch` frame
# when several came meanwhile; pins and status changes go at once). 0: no waiting.
FENXIAO_LIVE_BATCH_MILLISECONDS = env.int("FENXIAO_LIVE_BATCH_MILLISECONDS", default=150)
if not 0 <= FENXIAO_LIVE_BATCH_MILLISECONDS <= 1000:
    raise environ.ImproperlyConfigured("FENXIAO_LIVE_BATCH_MILLISECONDS must be 0 to 1000")

CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Several deployments (or a benchmark) may share one Redis database.
        "KEY_PREFIX": env("FENXIAO_CACHE_KEY_PREFIX", default="fenxiao"),
    }
}

# Sessions are read from the cache (Redis) and written through to the database: a signed-in page
# costs no session query while the session is cached, and nothing is lost when Redis restarts.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

RATE_PATTERN = re.compile(r"^[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)$")


def rate(name: str, default: str) -> str:
    """A rate such as ``10/min`` (DRF's syntax) from the environment; a bad value fails at start."""
    value = env(name, default=default).strip()
    if not RATE_PATTERN.match(value):
        raise environ.ImproperlyConfigured(
            f"{name} must look like 10/min (per s, min, hour or day), got {value!r}"
        )
    return value


# Rate limits on the public endpoints that check passwords or create accounts, per client IP
# (REMOTE_ADDR; behind a reverse proxy, configure the proxy or the WSGI server to set REMOTE_ADDR
# to the real client address: X-Forwarded-For is not trusted, as anybody can send it).
# The counters live in the default cache (Redis), so they hold across processes.
FENXIAO_RATE_LIMITS = {
    "login-ip": rate("FENXIAO_RATE_LOGIN_IP", "10/min"),
    # Per username across all IPs: slows guessing one account's password from many addresses.
    "login-username": rate("FENXIAO_RATE_LOGIN_USERNAME", "20/hour"),
    "signup": rate("FENXIAO_RATE_SIGNUP", "20/hour"),
    "merchant-apply": rate("FENXIAO_RATE_MERCHANT_APPLY", "5/hour"),
    "supplier-apply": rate("FENXIAO_RATE_SUPPLIER_APPLY", "5/hour"),
}

REST_FRAMEWORK = {
    # Views opt in with throttle_classes = [ScopedRateThrottle] and a throttle_scope below.
    "DEFAULT_THROTTLE_RATES": {
        "auth-token": rate("FENXIAO_RATE_API_TOKEN", "10/min"),
        "merchant-applications": rate("FENXIAO_RATE_API_MERCHANT_APPLICATIONS", "5/hour"),
        "supplier-applications": rate("FENXIAO_RATE_API_SUPPLIER_APPLICATIONS", "5/hour"),
    },
    # 0: throttles key on REMOTE_ADDR, like the form limits. DRF's default (None) would key on
    # the whole X-Forwarded-For header, which a client can change on every request.
    "NUM_PROXIES": 0,
    # Token first: a request carrying a token is judged by it alone — an invalid token is a 401
    # even when a valid session cookie comes along (session first would let the cookie through),
    # and a missing credential is a 401 with `WWW-Authenticate: Token`, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "apps.core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fenxiao API",
    "DESCRIPTION": "Storefront, distributor and merchant operations of the Fenxiao distribution mall.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api_schema.error_responses_postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LiveRoomStatusEnum": "apps.live.models.LiveRoom.Status",
        "ShipmentStatusEnum": "apps.dropship.models.Shipment.Status",
        "CouponKindEnum": "apps.marketing.models.Coupon.Kind",
        "CouponGrantStatusEnum": "apps.marketing.models.CouponGrant.Status",
        "PromotionKindEnum": "apps.marketing.models.Promotion.Kind",
        "PointsEntryKindEnum": "apps.members.models.PointsEntry.Kind",
    },
}

# Business defaults (per-merchant settings override them where the models say so).
# Mail (applicants are told the outcome of their review): EMAIL_URL, e.g.
# smtp+tls://user:password@smtp.example.com:587; by default mail is printed to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("FENXIAO_FROM_EMAIL", default="noreply@fenxiao.local")

# 供应商入驻: the largest business licence file an applicant may upload.
FENXIAO_SUPPLIER_LICENCE_MAX_BYTES = env.int(
    "FENXIAO_SUPPLIER_LICENCE_MAX_BYTES", default=5 * 1024 * 1024
)
if FENXIAO_SUPPLIER_LICENCE_MAX_BYTES < 1:
    raise environ.ImproperlyConfigured("FENXIAO_SUPPLIER_LICENCE_MAX_BYTES must be 1 or more")
FENXIAO_UNPAID_ORDER_TTL_MINUTES = env.int("FENXIAO_UNPAID_ORDER_TTL_MINUTES", default=30)
FENXIAO_AUTO_COMPLETE_DAYS = env.int("FENXIAO_AUTO_COMPLETE_DAYS", default=7)
FENXIAO_SANDBOX_PAY_SECRET = env("FENXIAO_SANDBOX_PAY_SECRET")
# Enabled payment providers. The sandbox marks orders paid without money moving: on in dev and
# tests, off in production unless listed explicitly.
# WeChat Pay and Alipay pay only for a merchant whose account with them is entered and enabled.
FENXIAO_PAYMENT_PROVIDERS = env.list(
    "FENXIAO_PAYMENT_PROVIDERS", default=["sandbox", "wechatpay", "alipay"]
)
# Encryption at rest (apps/core/crypto.py): Fernet keys, comma-separated, the first encrypts and all
# decrypt (put a new key first, run `manage.py encryption_keys rotate`, then drop the old one); and
# the key of the blind indexes that make encrypted columns searchable (never rotated). Required.
FENXIAO_ENCRYPTION_KEYS = parse_keys(env("FENXIAO_ENCRYPTION_KEYS"))
FENXIAO_BLIND_INDEX_KEY = env("FENXIAO_BLIND_INDEX_KEY")
if len(FENXIAO_BLIND_INDEX_KEY) < 32:
    raise environ.ImproperlyConfigured("FENXIAO_BLIND_INDEX_KEY must be at least 32 characters")
FENXIAO_REFERRAL_COOKIE_DAYS = env.int("FENXIAO_REFERRAL_COOKIE_DAYS", default=30)
# A CJK font file for share posters; empty = the first known font found (apps/distributors/posters.py).
FENXIAO_POSTER_FONT = env("FENXIAO_POSTER_FONT", default="")
# Seconds a signed-out store page (catalogue, product) may be served from the cache; product and
# SKU edits rebuild it at once, stock reserved by orders shows within this (apps/storefront/page_cache.py).
FENXIAO_PAGE_CACHE_SECONDS = env.int("FENXIAO_PAGE_CACHE_SECONDS", default=10)
# Seconds a leaderboard stays cached (Django cache) before it is counted again.
# Seconds the merchant dashboard's figures stay cached, per merchant and range.
FENXIAO_DASHBOARD_CACHE_SECONDS = env.int("FENXIAO_DASHBOARD_CACHE_SECONDS", default=60)
# The consumer's address a payment order sends (WeChat Pay's H5 payer_client_ip) is REMOTE_ADDR,
# unless this says the site stands behind a proxy that writes X-Forwarded-For: then its first
# hop. Off by default, because anybody can send that header.
FENXIAO_TRUST_X_FORWARDED_FOR = env.bool("FENXIAO_TRUST_X_FORWARDED_FOR", default=False)
FENXIAO_LEADERBOARD_CACHE_SECONDS = env.int("FENXIAO_LEADERBOARD_CACHE_SECONDS", default=60)
# Refund-rate fraud flag: a distributor is only judged once their customers paid at least this much
# (yuan) in the merchant's refund-rate period (the threshold and period are per merchant).
FENXIAO_REFUND_RATE_MIN_PAID = Decimal(env("FENXIAO_REFUND_RATE_MIN_PAID", default="100.00"))
# 分账: the most of a payment (percent) that may go to receivers other than the merchant, the
# platform's fee included (WeChat Pay's profit sharing applies 30 %).
try:
    FENXIAO_SPLIT_MAX_PERCENT = Decimal(env("FENXIAO_SPLIT_MAX_PERCENT", default="30"))
except ArithmeticError:
    FENXIAO_SPLIT_MAX_PERCENT = Decimal("NaN")
if not (FENXIAO_SPLIT_MAX_PERCENT.is_finite() and 0 <= FENXIAO_SPLIT_MAX_PERCENT <= 100):
    raise environ.ImproperlyConfigured("FENXIAO_SPLIT_MAX_PERCENT must be a percent from 0 to 100")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("FENXIAO_LOG_LEVEL", default="INFO")},
}

# Backups (manage.py backup / make backup): where dumps and their manifests are written.
FENXIAO_BACKUP_DIR = env("FENXIAO_BACKUP_DIR", default=str(BASE_DIR / ".data" / "backups"))

# The audit trail (django-auditlog; apps/core/audit.py): the money-relevant and programme settings,
# prices and stock, distributor moves and suspensions, refund and withdrawal decisions. The tree's
# own bookkeeping columns (rewritten on every move) are left out of the diffs.
_TREE_COLUMNS = ["lft", "rght", "tree_id", "level"]
# A distributor's reverse relations are not its columns: left in, every join's entry read each of
# them (a related manager per relation, the wallet a query) to log "None → <manager>", a third of
# a join's Python time. tests/services/test_distributors.py fails when a new one is missing here.
_DISTRIBUTOR_REVERSE_RELATIONS = [
    "children",
    "commission_reversals",
    "commissions",
    "customer_bindings",
    "fraud_flags",
    "ledger_entries",
    "material_reads",
    "payee_accounts",
    "resale_prices",
    "tier_changes",
    "wallet",
    "withdrawals",
]
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "merchants.Merchant",
    "merchants.MerchantStaff",
    "commissions.CommissionPlan",
    "commissions.CommissionOverride",
    "commissions.BonusTier",
    "distributors.ProgrammeSettings",
    "distributors.Tier",
    "distributors.TierCondition",
    "distributors.TierSkuPrice",
    {
        "model": "distributors.Distributor",
        "exclude_fields": [*_TREE_COLUMNS, *_DISTRIBUTOR_REVERSE_RELATIONS],
    },
    "distributors.DistributorApplication",
    "distributors.FraudFlag",
    "withdrawals.WithdrawalSettings",
    "withdrawals.Withdrawal",
    "products.Product",
    "products.Sku",
    "refunds.RefundCase",
)
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Outgoing webhooks (apps/webhooks): never to loopback or private addresses (SSRF guard) unless
# this is on — development and tests, whose receivers run on this machine.
FENXIAO_WEBHOOKS_ALLOW_PRIVATE = env.bool("FENXIAO_WEBHOOKS_ALLOW_PRIVATE", default=False)

# Two-factor sign-in (TOTP, django-otp; apps/merchants/two_factor.py): always for the platform
# operator; for a merchant's staff when the merchant requires it.
FENXIAO_OPERATOR_TWO_FACTOR = env.bool("FENXIAO_OPERATOR_TWO_FACTOR", default=True)
OTP_TOTP_ISSUER = "Fenxiao"
