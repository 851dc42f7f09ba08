from typing import cast

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.distributors.models import Distributor
from apps.distributors.selectors import distributor_for_user
from apps.materials.models import Material, MaterialRead
from apps.materials.selectors import material_readers
from apps.materials.services import material_read_record, material_save
from apps.tenancy.api import MerchantStaffViewSet, StoreViewSet

from .serializers import (
    DistributorMaterialSerializer,
    MaterialReadSerializer,
    MerchantMaterialSerializer,
)


@extend_schema(tags=["distributor"])
class DistributorMaterialViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreViewSet):
    """The store's published training material (素材), for its distributors only."""

    queryset = Material.objects.all()
    serializer_class = DistributorMaterialSerializer

    def distributor(self) -> Distributor:
        cached = getattr(self, "_distributor", None)
        if cached is None:
            cached = distributor_for_user(
                merchant=self.merchant, user=cast(User, self.request.user)
            )
            if cached is None:
                raise NotFound(
                    _("You are not a distributor of this store."), code="not_a_distributor"
                )
            self._distributor = cached
        return cached

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        distributor = self.distributor()
        return (
            queryset.filter(is_published=True)
            .annotate(
                is_read=Exists(
                    MaterialRead.objects.filter(material=OuterRef("pk"), distributor=distributor)
                )
            )
            .order_by("sort", "-published_at", "-id")
        )

    @extend_schema(request=None, responses=MaterialReadSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, store: str, pk: str) -> Response:
        """Record that the caller read it: the first time creates the record, later ones count."""
        material = self.get_object()
        record = material_read_record(material=material, distributor=self.distributor())
        return Response(MaterialReadSerializer(record).data)


@extend_schema(tags=["merchant"])
class MerchantMaterialViewSet(viewsets.ModelViewSet, MerchantStaffViewSet):
    """The merchant's material library: write, publish (``is_published``), read statistics."""

    queryset = Material.objects.all()
    serializer_class = MerchantMaterialSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.annotate(
            reader_count=Count("reads"), read_total=Sum("reads__read_count")
        ).order_by("sort", "-id")

    def perform_create(self, serializer) -> None:  # type: ignore[no-untyped-def]
        material = Material(merchant=self.merchant, **serializer.validated_data)
        serializer.instance = material_save(material=material)
        serializer.instance.reader_count, serializer.instance.read_total = 0, None

    def perform_update(self, serializer) -> None:  # type: ignore[no-untyped-def]
        material = serializer.instance
        was_published = material.is_published
        for name, value in serializer.validated_data.items():
            setattr(material, name, value)
        if material.is_published and not was_published:
            material.published_at = None  # a new publication: published_at is now
        serializer.instance = material_save(material=material)

    @extend_schema(responses=MaterialReadSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reads(self, request: Request, pk: str) -> Response:
        """Who read it: one row per distributor, latest first; paginated."""
        material = self.get_object()
        page = self.paginate_queryset(material_readers(material=material))
        return self.get_paginated_response(MaterialReadSerializer(page, many=True).data)
