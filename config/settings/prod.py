"""Production: every secret must come from the environment; there are no defaults here."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
# The real providers, each paying only for merchants with an enabled account; the sandbox only
# when listed explicitly.
FENXIAO_PAYMENT_PROVIDERS = env.list("FENXIAO_PAYMENT_PROVIDERS", default=["wechatpay", "alipay"])
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
