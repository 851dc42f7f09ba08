"""Local development: ``make run``. Safe, obviously-not-production defaults for secrets."""

import base64
import hashlib
import os

from config.embedded import services_env

# Without DATABASE_URL / REDIS_URL, development and tests use the embedded PostgreSQL and Redis
# (started on first use), as `make run` and `make test` do.
os.environ.update(services_env(missing_only=True))

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-not-secret")
os.environ.setdefault("FENXIAO_SANDBOX_PAY_SECRET", "dev-sandbox-secret")
# Encryption keys derived from a fixed dev-only phrase, so that nothing has to be set; data
# encrypted with them is dev data (production has no default: base.py requires the variables).
os.environ.setdefault(
    "FENXIAO_ENCRYPTION_KEYS",
    base64.urlsafe_b64encode(hashlib.sha256(b"fenxiao dev-only encryption key").digest()).decode(),
)
os.environ.setdefault("FENXIAO_BLIND_INDEX_KEY", "dev-only-blind-index-key-not-secret-0123456789")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("FENXIAO_WEBHOOKS_ALLOW_PRIVATE", "true")

from .base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]
