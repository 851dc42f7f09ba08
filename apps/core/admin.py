"""Admin bases that scope the Django admin to the signed-in merchant's rows and fail closed.

Merchant staff see and change only their merchant's rows in every changelist, change form, related
field, list filter, autocomplete and action; the platform operator (superuser) sees everything. A
subclass cannot override ``get_queryset`` (the scoping lives there): it overrides ``scope_queryset``
to add select_related and the like.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db import models
from django.http import HttpRequest

from apps.merchants.models import Merchant
from apps.merchants.selectors import merchant_for_staff


def _is_merchant_owned(model: type[models.Model]) -> bool:
    return any(field.name == "merchant" for field in model._meta.get_fields())


def request_merchant(request: HttpRequest) -> Merchant | None:
    return merchant_for_staff(request.user)  # type: ignore[arg-type]


class _MerchantScoping:
    """What the model admin and the inline share: scoped querysets and scoped related choices."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ and not cls.__module__.startswith(__name__):
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; override scope_queryset instead so that "
                "merchant scoping cannot be lost."
            )

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = self.scope_queryset(super().get_queryset(request))  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        merchant = request_merchant(request)
        if merchant is None:
            return queryset.none()
        return queryset.filter(merchant=merchant)

    def _scope_related(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if request.user.is_superuser or not _is_merchant_owned(queryset.model):
            return queryset
        merchant = request_merchant(request)
        return queryset.filter(merchant=merchant) if merchant else queryset.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = self._scope_related(request, formfield.queryset)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = self._scope_related(request, formfield.queryset)
        return formfield

    def get_exclude(self, request, obj=None):  # type: ignore[no-untyped-def]
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if not request.user.is_superuser:
            exclude.append("merchant")
        return exclude

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or request_merchant(request) is not None

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)

    def _owns(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        merchant = request_merchant(request)
        return merchant is not None and getattr(obj, "merchant_id", None) == merchant.pk


class MerchantScopedAdmin(_MerchantScoping, admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def get_list_filter(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        """Related-field filters list only values present in the (scoped) changelist."""
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                try:
                    field = self.model._meta.get_field(entry)
                except Exception:
                    field = None
                if field is not None and field.is_relation:
                    entry = (entry, RelatedOnlyFieldListFilter)
            scoped.append(entry)
        return scoped

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change and not request.user.is_superuser:
            obj.merchant = request_merchant(request)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        instances = formset.save(commit=False)
        for instance in instances:
            if _is_merchant_owned(type(instance)) and not getattr(instance, "merchant_id", None):
                instance.merchant_id = form.instance.merchant_id
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


class MerchantScopedTabularInline(_MerchantScoping, admin.TabularInline):
    pass


class OperatorOnlyAdmin(admin.ModelAdmin):
    """Platform-level models (merchants, applications, users): the operator only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_superuser

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_superuser
