"""Test settings: real PostgreSQL and Redis (from the environment or the embedded ones)."""

import base64
import hashlib
import os

from config.embedded import services_env

# Without DATABASE_URL / REDIS_URL, development and tests use the embedded PostgreSQL and Redis
# (started on first use), as `make run` and `make test` do.
os.environ.update(services_env(missing_only=True))

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("FENXIAO_SANDBOX_PAY_SECRET", "test-sandbox-secret")
os.environ.setdefault("FENXIAO_WEBHOOKS_ALLOW_PRIVATE", "true")
# The suite signs operators in with force_login; tests/ops/test_two_factor.py turns this back on.
os.environ.setdefault("FENXIAO_OPERATOR_TWO_FACTOR", "false")
# Encryption keys derived from a fixed test-only phrase, so that nothing has to be set; data
# encrypted with them is test data (production has no default: base.py requires the variables).
os.environ.setdefault(
    "FENXIAO_ENCRYPTION_KEYS",
    base64.urlsafe_b64encode(hashlib.sha256(b"fenxiao test-only encryption key").digest()).decode(),
)
os.environ.setdefault("FENXIAO_BLIND_INDEX_KEY", "test-only-blind-index-key-not-secret-0123456789")

from .base import *  # noqa: E402,F403
from .base import CACHES, DATABASES

ALLOWED_HOSTS = ["*"]
# The Redis database outlives a test run; a prefix of each run's own keeps what an earlier run
# cached (pages of a merchant with the same id) out of this one.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}-{os.urandom(3).hex()}"
# Tests close connections after each request/task unless DATABASE_CONN_MAX_AGE is set explicitly
# (the settlement benchmark's workers set it to keep connections as production does).
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "0"))
if "replica" in DATABASES:
    # The suite's test database exists only on the primary; tests/replica starts a real
    # streaming replica of its own.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en"
CELERY_TASK_ALWAYS_EAGER = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests never run collectstatic; the live server serves static files through the finders.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405

# The cache (Redis) is shared by the whole test run and every test client is 127.0.0.1: limits high
# enough never to trip by accident. tests/api/test_throttling.py and
# tests/storefront/test_throttling.py lower them.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "auth-token": "10000/min",
        "merchant-applications": "10000/min",
        "supplier-applications": "10000/min",
    },
}
FENXIAO_RATE_LIMITS = {scope: "10000/min" for scope in FENXIAO_RATE_LIMITS}  # noqa: F405
# Tests settle one order per task unless a test asks for batches (tests/concurrency and
# tests/worker cover commission_settle_orders); a task settling other waiting orders would blur
# what each test asserts about its own order.
FENXIAO_SETTLEMENT_BATCH = env.int("FENXIAO_SETTLEMENT_BATCH", default=1)  # noqa: F405
if FENXIAO_SETTLEMENT_BATCH < 1:
    raise environ.ImproperlyConfigured("FENXIAO_SETTLEMENT_BATCH must be 1 or more")  # noqa: F405
