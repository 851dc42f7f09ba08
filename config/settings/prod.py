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
SESSION_COOKIE_HTTPONLY = True
# HTTPS only: redirect plain HTTP (behind a proxy that sets X-Forwarded-Proto) and tell browsers
# to keep to HTTPS for a year. DJANGO_SECURE_SSL_REDIRECT=false where the proxy redirects itself.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
