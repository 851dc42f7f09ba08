"""Admin bases that scope the Django admin to the signed-in merchant's rows and fail closed.

Merchant staff see and change only their merchant's rows in every changelist, change form, related
field, list filter, autocomplete and action; the platform operator (superuser) sees everything. A
subclass cannot override ``get_queryset`` (the scoping lives there): it overrides ``scope_queryset``
to add select_related and the like.

Staff get no Django model permissions: access comes from an active merchant membership
(``merchant_for_staff``). Another merchant's object id answers 404, as if it did not exist.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import (
    FieldDoesNotExist,
)
from django.db import models
from django.forms.models import InlineForeignKeyField
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from apps.core.admin import AuditHistoryMixin, RefusableSavesMixin, SafeAutocompleteMixin
from apps.merchants.models import Merchant
from apps.merchants.selectors import merchant_for_staff


def _is_merchant_owned(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("merchant")
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is Merchant


def request_merchant(request: HttpRequest) -> Merchant | None:
    return merchant_for_staff(request.user)  # type: ignore[arg-type]


class MerchantScopedFormMixin:
    """Validates a merchant-owned form as a whole tenant row.

    The ``merchant`` field is not on a staff member's form (nor on any inline form), so Django would
    skip every constraint that includes it (``UniqueConstraint(merchant, code)`` → IntegrityError, a
    500). The row's merchant is set before validation and the constraints are checked; and every
    related object chosen on the form must belong to that same merchant (the operator's unscoped
    dropdowns could otherwise join two tenants).
    """

    scoped_merchant_id: int | None = None

    def _row_merchant_id(self) -> int | None:
        instance = self.instance  # type: ignore[attr-defined]
        if instance.merchant_id:
            return instance.merchant_id
        cleaned = getattr(self, "cleaned_data", {}) or {}
        if isinstance(cleaned.get("merchant"), Merchant):
            return cleaned["merchant"].pk
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, InlineForeignKeyField):
                parent_merchant_id = getattr(field.parent_instance, "merchant_id", None)
                if parent_merchant_id:
                    return parent_merchant_id
        return self.scoped_merchant_id

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()  # type: ignore[misc]
        merchant_id = self._row_merchant_id()
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if isinstance(field, InlineForeignKeyField) or name == "merchant":
                continue
            if isinstance(field, forms.ModelMultipleChoiceField):
                values = list(value or [])
            elif isinstance(field, forms.ModelChoiceField):
                values = [value] if value is not None else []
            else:
                continue
            if any(
                _is_merchant_owned(type(item)) and item.merchant_id != merchant_id
                for item in values
            ):
                self.add_error(name, _("This belongs to another merchant."))  # type: ignore[attr-defined]
        return cleaned

    def _post_clean(self) -> None:
        instance = self.instance  # type: ignore[attr-defined]
        if not instance.merchant_id:
            merchant_id = self._row_merchant_id()
            if merchant_id:
                instance.merchant_id = merchant_id
        super()._post_clean()  # type: ignore[misc]

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()  # type: ignore[misc]
        if self.instance.merchant_id and "merchant" not in self.fields:  # type: ignore[attr-defined]
            exclude.discard("merchant")
        return exclude


class _MerchantScoping(SafeAutocompleteMixin):
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

    def _scoped_form_class(self, request: HttpRequest, form_class: type) -> type:
        if not _is_merchant_owned(self.model):  # type: ignore[attr-defined]
            return form_class
        merchant = None if request.user.is_superuser else request_merchant(request)
        return type(
            f"MerchantScoped{form_class.__name__}",
            (MerchantScopedFormMixin, form_class),
            {"scoped_merchant_id": merchant.pk if merchant else None},
        )

    def get_exclude(self, request, obj=None):  # type: ignore[no-untyped-def]
        exclude = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        if not request.user.is_superuser and "merchant" not in exclude:
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


class MerchantScopedAdmin(
    AuditHistoryMixin, RefusableSavesMixin, _MerchantScoping, admin.ModelAdmin
):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def get_object(self, request, object_id, from_field=None):  # type: ignore[no-untyped-def]
        """Another merchant's id, like a missing one, is a 404 (Django would redirect with a
        message naming the model and id)."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object."))
        return obj

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):  # type: ignore[no-untyped-def]
        raise Http404(_("No such object."))

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = self._scoped_form_class(request, kwargs.get("form", self.form))
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_fields(request, obj))
        # The operator picks (or, on change, sees) the merchant even where a subclass lists its
        # fields without it; staff never do (their merchant is implied).
        if (
            request.user.is_superuser
            and _is_merchant_owned(self.model)
            and "merchant" not in fields
        ):
            fields.insert(0, "merchant")
        return fields

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        # A row never moves to another merchant, not even by the operator's hand.
        if (
            request.user.is_superuser
            and obj is not None
            and _is_merchant_owned(self.model)
            and "merchant" not in readonly
        ):
            readonly.append("merchant")
        return readonly

    def get_list_display(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        display = list(super().get_list_display(request))
        if (
            request.user.is_superuser
            and _is_merchant_owned(self.model)
            and "merchant" not in display
        ):
            display.insert(1, "merchant")
        return display

    def get_list_select_related(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        related = super().get_list_select_related(request)
        if request.user.is_superuser and isinstance(related, list | tuple) and related:
            related = [*related, "merchant"] if "merchant" not in related else list(related)
        return related

    def get_list_filter(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        """Related-field filters list only values present in the (scoped) changelist."""
        entries = list(super().get_list_filter(request))
        if (
            request.user.is_superuser
            and _is_merchant_owned(self.model)
            and "merchant" not in entries
        ):
            entries.insert(0, "merchant")
        scoped = []
        for entry in entries:
            if isinstance(entry, str):
                try:
                    field = get_fields_from_path(self.model, entry)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    field = None
                if field is not None and field.is_relation:
                    entry = (entry, RelatedOnlyFieldListFilter)
            scoped.append(entry)
        return scoped

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            if not request.user.is_superuser:
                obj.merchant = request_merchant(request)
            obj.save()
            return
        # Write only what the form changed, so a stale form never overwrites columns that services
        # change concurrently (stock reserved by orders, statuses).
        changed = _changed_columns(obj, form.changed_data)
        if changed:
            obj.save(update_fields=changed)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        formset.save(commit=False)
        for instance in formset.new_objects:
            if _is_merchant_owned(type(instance)):
                # Inline rows always belong to their parent's merchant.
                instance.merchant_id = form.instance.merchant_id
            instance.save()
        for instance, changed_data in formset.changed_objects:
            changed = _changed_columns(instance, changed_data)
            if changed:
                instance.save(update_fields=changed)
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


def _changed_columns(obj: models.Model, changed_data: list[str]) -> list[str]:
    concrete = {field.name for field in obj._meta.concrete_fields if not field.primary_key}
    changed = [name for name in changed_data if name in concrete]
    if changed:
        changed += [
            field.name for field in obj._meta.concrete_fields if getattr(field, "auto_now", False)
        ]
    return changed


class MerchantScopedTabularInline(_MerchantScoping, admin.TabularInline):
    def get_exclude(self, request, obj=None):  # type: ignore[no-untyped-def]
        exclude = list(super().get_exclude(request, obj))
        if "merchant" not in exclude:
            exclude.append("merchant")
        return exclude

    def get_formset(self, request, obj=None, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = self._scoped_form_class(request, kwargs.get("form", self.form))
        return super().get_formset(request, obj, **kwargs)
