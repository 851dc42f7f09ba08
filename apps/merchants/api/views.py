from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.api.views import TokenView
from apps.merchants.services import merchant_application_submit
from apps.merchants.two_factor import two_factor_required, two_factor_token_ok

from .serializers import MerchantApplicationCreateSerializer, MerchantApplicationSerializer


@extend_schema(tags=["public"])
class MerchantApplicationViewSet(viewsets.GenericViewSet):
    """A public merchant application; the platform operator reviews it in the admin.

    Not merchant-scoped: it belongs to no merchant yet, and nothing can be read back through it.
    """

    permission_classes = [permissions.AllowAny]
    serializer_class = MerchantApplicationCreateSerializer
    # It creates a user account: throttled per client IP.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "merchant-applications"

    @extend_schema(
        request=MerchantApplicationCreateSerializer,
        responses={201: MerchantApplicationSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = merchant_application_submit(**serializer.validated_data)
        return Response(
            MerchantApplicationSerializer(application).data, status=status.HTTP_201_CREATED
        )


class TwoFactorAuthTokenSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The current code of the authenticator app, for users who must use two-factor "
        "sign-in (the platform operator; staff of merchants that require it).",
    )


@extend_schema(tags=["auth"])
class TwoFactorTokenView(TokenView):
    """Exchange a username and password (plus ``otp``, the authenticator's current code, where
    two-factor sign-in is required) for an API token (send ``Authorization: Token …``).

    Throttled per client IP (scope ``auth-token``) against password guessing.
    """

    serializer_class = TwoFactorAuthTokenSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if two_factor_required(user) and not two_factor_token_ok(
            user=user, token=serializer.validated_data.get("otp", "")
        ):
            return Response(
                {
                    "detail": "A current two-factor code (otp) is required for this account.",
                    "code": "otp_required",
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
