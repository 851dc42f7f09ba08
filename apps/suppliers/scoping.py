"""Admin and API bases that scope the back office to the signed-in supplier's rows, failing closed.

Like the merchant bases (apps.tenancy), for the third kind of tenant: supplier staff see and change
only their supplier's rows in every changelist, change form, related field and action; the
operator sees everything; anyone else (merchant staff included) is refused. Another supplier's id
answers 404. Subclasses override ``scope_queryset``, never ``get_queryset``.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, viewsets
from rest_framework.request import Request

from apps.core.admin import RefusableSavesMixin, SafeAutocompleteMixin

from .models import Supplier, SupplierStaff
from .selectors import supplier_for_staff


def is_supplier_owned(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("supplier")
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is Supplier


def staff_supplier_id(user_id: int) -> int | None:
    """The active supplier ``user_id`` works for (row-level security's request scope), read on the
    driver's connection like the merchant's (apps.tenancy.middleware)."""
    from apps.tenancy.middleware import raw_row

    row = raw_row(
        f'SELECT s.id FROM "{Supplier._meta.db_table}" s '
        f'JOIN "{SupplierStaff._meta.db_table}" t ON t.supplier_id = s.id '
        "WHERE t.user_id = %s AND s.status = %s ORDER BY s.id LIMIT 1",
        [user_id, Supplier.Status.ACTIVE],
    )
    return row[0] if row else None


def request_supplier(request: HttpRequest) -> Supplier | None:
    return supplier_for_staff(request.user)  # type: ignore[arg-type]


class _SupplierScoping(SafeAutocompleteMixin):
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ and cls.__module__ != __name__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; override scope_queryset instead so that "
                "supplier scoping cannot be lost."
            )

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = self.scope_queryset(super().get_queryset(request))  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        supplier = request_supplier(request)
        return queryset.filter(supplier=supplier) if supplier else queryset.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        queryset = getattr(formfield, "queryset", None)
        if (
            queryset is not None
            and not request.user.is_superuser
            and is_supplier_owned(queryset.model)
        ):
            supplier = request_supplier(request)
            formfield.queryset = queryset.filter(supplier=supplier) if supplier else queryset.none()
        return formfield

    def get_exclude(self, request, obj=None):  # type: ignore[no-untyped-def]
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if not request.user.is_superuser and "supplier" not in exclude:
            exclude.append("supplier")
        return exclude

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or request_supplier(request) is not None

    def _owns(self, request: HttpRequest, obj: models.Model | None) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        supplier = request_supplier(request)
        return supplier is not None and getattr(obj, "supplier_id", None) == supplier.pk

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._allowed(request) and self._owns(request, obj)


class SupplierScopedAdmin(RefusableSavesMixin, _SupplierScoping, admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def get_object(self, request, object_id, from_field=None):  # type: ignore[no-untyped-def]
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object."))
        return obj

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):  # type: ignore[no-untyped-def]
        raise Http404(_("No such object."))

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser and obj is not None and "supplier" not in readonly:
            readonly.append("supplier")
        return readonly

    def get_list_display(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        display = list(super().get_list_display(request))
        if request.user.is_superuser and "supplier" not in display:
            display.insert(1, "supplier")
        return display

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change and not request.user.is_superuser:
            obj.supplier = request_supplier(request)
        super().save_model(request, obj, form, change)


class SupplierScopedTabularInline(_SupplierScoping, admin.TabularInline):
    def get_exclude(self, request, obj=None):  # type: ignore[no-untyped-def]
        exclude = list(super().get_exclude(request, obj) or [])
        if "supplier" not in exclude:
            exclude.append("supplier")
        return exclude


class IsSupplierStaff(permissions.BasePermission):
    message = "You do not work for an active supplier."

    def has_permission(self, request: Request, view: Any) -> bool:
        return supplier_for_staff(request.user) is not None


class SupplierStaffViewSet(viewsets.GenericViewSet):
    """Supplier back-office API: every queryset filtered to the caller's supplier."""

    permission_classes = [permissions.IsAuthenticated, IsSupplierStaff]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ and cls.__module__ != __name__:
            raise TypeError(f"{cls.__name__} overrides get_queryset; override scope_queryset.")

    @property
    def supplier(self) -> Supplier:
        supplier = supplier_for_staff(self.request.user)
        if supplier is None:
            raise exceptions.PermissionDenied(IsSupplierStaff.message)
        return supplier

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self) -> models.QuerySet:
        return self.scope_queryset(super().get_queryset()).filter(supplier=self.supplier)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["supplier"] = self.supplier
        return context
