from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from apps.merchants.services import merchant_application_submit

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
