"""Local development: ``make run``. Safe, obviously-not-production defaults for secrets."""

import os

from config.embedded import services_env

# Without DATABASE_URL / REDIS_URL, development and tests use the embedded PostgreSQL and Redis
# (started on first use), as `make run` and `make test` do.
os.environ.update(services_env(missing_only=True))

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-not-secret")
os.environ.setdefault("FENXIAO_SANDBOX_PAY_SECRET", "dev-sandbox-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("FENXIAO_WEBHOOKS_ALLOW_PRIVATE", "true")

from .base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]
