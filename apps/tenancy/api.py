"""API bases: merchant scoping that fails closed."""

from typing import Any, NoReturn

from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.request import Request

from apps.core.errors import NotFound
from apps.merchants.models import Merchant
from apps.merchants.selectors import merchant_for_staff, merchant_get_active_by_slug


class IsMerchantStaff(permissions.BasePermission):
    message = "You do not work for an active merchant."

    def has_permission(self, request: Request, view: Any) -> bool:
        return merchant_for_staff(request.user) is not None


class _ScopedViewSet(viewsets.GenericViewSet):
    """Every queryset filtered to ``self.merchant``; subclasses say who the merchant is.

    Refuses subclasses that override ``get_queryset``: they override ``scope_queryset`` (to add
    select_related or narrow to the caller), so the merchant filter cannot be lost.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The scoped bases in this module define get_queryset; only their subclasses are refused.
        if "get_queryset" in cls.__dict__ and cls.__module__ != __name__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; override scope_queryset instead so that "
                "merchant scoping cannot be lost."
            )

    @property
    def merchant(self) -> Merchant:
        raise NotImplementedError

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self) -> models.QuerySet:
        return self.scope_queryset(super().get_queryset()).filter(merchant=self.merchant)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):
            return context
        context["merchant"] = self.merchant
        return context


class MerchantStaffViewSet(_ScopedViewSet):
    """Back-office API: scoped to the merchant the caller works for."""

    permission_classes = [permissions.IsAuthenticated, IsMerchantStaff]

    @property
    def merchant(self) -> Merchant:
        merchant = merchant_for_staff(self.request.user)
        if merchant is None:
            raise exceptions.PermissionDenied(IsMerchantStaff.message)
        return merchant


class StoreViewSet(_ScopedViewSet):
    """Storefront and distributor API under ``/api/v1/stores/<store>/…``: scoped to that store.

    ``scope_queryset`` may narrow further to the caller (``self.request.user``).
    """

    @property
    def merchant(self) -> Merchant:
        cached = getattr(self, "_merchant", None)
        if cached is None:
            cached = merchant_get_active_by_slug(slug=self.kwargs.get("store", ""))
            if cached is None:
                raise Http404(_("No such store."))
            self._merchant = cached
        return cached


class MerchantScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id accepted only if it belongs to the merchant in the serializer context.

    Another merchant's id answers exactly like an id that does not exist: 404, as an id in a URL
    would (DRF's own field would answer 400 "object does not exist").
    """

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        if key == "does_not_exist":
            model = self.get_queryset().model
            raise NotFound(
                _("No %(model)s with id %(pk)s.")
                % {"model": model._meta.verbose_name, "pk": kwargs.get("pk_value")},
                code=f"unknown_{model._meta.model_name}",
            )
        super().fail(key, **kwargs)

    def get_queryset(self) -> models.QuerySet:
        merchant = self.context.get("merchant")
        queryset = super().get_queryset()
        assert queryset is not None, "a scoped related field needs a queryset"
        if merchant is None:
            return queryset.none()
        return queryset.filter(merchant=merchant)
