"""Local development: ``make run``. Safe, obviously-not-production defaults for secrets."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-not-secret")
os.environ.setdefault("FENXIAO_SANDBOX_PAY_SECRET", "dev-sandbox-secret")
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]
