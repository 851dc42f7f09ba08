from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


@extend_schema(tags=["auth"])
class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (send ``Authorization: Token …``).

    Throttled per client IP (scope ``auth-token``) against password guessing.
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth-token"
