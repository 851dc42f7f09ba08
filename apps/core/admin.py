"""Admin building blocks that know nothing of tenants: refusable saves, safe autocomplete widgets,
read-only and operator-only admins. The merchant-scoped bases are in ``apps.tenancy.admin``."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.audit import audit_entries_for
from apps.core.errors import DomainError
from apps.core.personal import phone_index

admin.site.site_header = gettext_lazy("Fenxiao back office")
admin.site.site_title = gettext_lazy("Fenxiao")
admin.site.index_title = gettext_lazy("Back office")


class SaveRefused(Exception):
    """A save the form had validated, refused by a service while saving (a concurrent change in
    between). Raise it (or let the service's DomainError through) from ``save_model``,
    ``save_formset`` or ``save_related``: see ``RefusableSavesMixin``."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class _RefusedSaveFormMixin:
    """Adds the refusal of the previous attempt to save this very POST as a form error."""

    save_refused: SaveRefused | None = None

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()  # type: ignore[misc]
        refused = self.save_refused
        if refused is not None:
            field = refused.field if refused.field in self.fields else None  # type: ignore[attr-defined]
            shown = self._errors.get(field or NON_FIELD_ERRORS, [])  # type: ignore[attr-defined]
            if refused.message not in shown:
                self.add_error(field, refused.message)  # type: ignore[attr-defined]
        return cleaned


class RefusableSavesMixin:
    """A save refused by a service is a form error: nothing saved, logged or reported as changed.

    Django's change view saves, logs and reports success in one transaction. When saving raises
    ``SaveRefused`` or a ``DomainError``, that transaction is rolled back (with everything the save
    had written and the log entry), and the page is built again from the same POST with the
    refusal as an error of the form (of ``SaveRefused.field``, else of the whole form).
    """

    def changeform_view(  # type: ignore[no-untyped-def]
        self, request, object_id=None, form_url="", extra_context=None
    ):
        try:
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except (SaveRefused, DomainError) as error:
            if request.method != "POST" or hasattr(request, "admin_save_refused"):
                raise
            refused = error if isinstance(error, SaveRefused) else SaveRefused(error.message)
            request.admin_save_refused = refused
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )

    def delete_view(self, request, object_id, extra_context=None):  # type: ignore[no-untyped-def]
        """A deletion refused by a service (``delete_model`` raising DomainError) is rolled back with
        its log entry and shown as an error on the confirmation page."""
        try:
            return super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
        except DomainError as error:
            if request.method != "POST":
                raise
            self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        refused = getattr(request, "admin_save_refused", None)
        if refused is None:
            return form
        return type(form.__name__, (_RefusedSaveFormMixin, form), {"save_refused": refused})


def _submitted_keys_are_valid(widget: AutocompleteSelect, value: list) -> list:
    """The submitted values that can be keys of the related model (others are dropped)."""
    remote_opts = widget.field.remote_field.model._meta
    to_field = remote_opts.get_field(
        getattr(widget.field.remote_field, "field_name", remote_opts.pk.attname)
    )
    valid = []
    for item in value:
        try:
            to_field.to_python(item)
        except ValidationError:
            continue
        valid.append(item)
    return valid


class SafeAutocompleteSelect(AutocompleteSelect):
    """Re-renders a form whose submitted value is not a key at all (``parent=abc``) instead of
    failing on the lookup of the selected option: the field's own error says what is wrong."""

    def optgroups(self, name, value, attr=None):  # type: ignore[no-untyped-def]
        return super().optgroups(name, _submitted_keys_are_valid(self, value), attr)


class SafeAutocompleteSelectMultiple(AutocompleteSelectMultiple):
    def optgroups(self, name, value, attr=None):  # type: ignore[no-untyped-def]
        return super().optgroups(name, _submitted_keys_are_valid(self, value), attr)


class SafeAutocompleteMixin:
    """Autocomplete fields of this admin use the safe widgets above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field,
                self.admin_site,  # type: ignore[attr-defined]
                using=kwargs.get("using"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field,
                self.admin_site,  # type: ignore[attr-defined]
                using=kwargs.get("using"),
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class AuditHistoryMixin:
    """The admin's "History" page of an object shows its audit trail (apps/core/audit.py): who
    changed which field from what to what, and when. Read-only by nature; it opens for whoever may
    view the object, through the admin's own ``get_object``, so a scoped admin answers another
    merchant's id with 404."""

    def history_view(self, request, object_id, extra_context=None):  # type: ignore[no-untyped-def]
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            raise Http404(_("No such object."))
        if not self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("History: %s") % obj,
            "subtitle": None,
            "entries": list(audit_entries_for(obj)),
            "module_name": str(opts.verbose_name_plural).capitalize(),
            "object": obj,
            "opts": opts,
            "preserved_filters": self.get_preserved_filters(request),  # type: ignore[attr-defined]
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, "admin/audit_history.html", context)


class PhoneSearchMixin:
    """Search also finds rows by an encrypted phone, through its blind index (exact number, however
    it is written): ``phone_search = (("user__phone_index", "user.phone"),)`` lists the index
    lookups with their purposes."""

    phone_search: tuple[tuple[str, str], ...] = ()

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        results, duplicates = super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        for lookup, purpose in self.phone_search:
            index = phone_index(search_term, purpose=purpose)
            if index:
                results |= queryset.filter(**{lookup: index})
        return results, duplicates


class ReadOnlyAdminMixin:
    """History and money: shown, never added, edited or deleted by hand. List it first in the
    bases so that it wins over the scoping permissions."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class OperatorOnlyMixin:
    """Platform-level models (merchants, applications, users, tokens, groups): the operator only.

    Merchant staff get 403 on every page of such an admin, whatever id they ask for and whatever
    Django permissions someone may have granted them.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.is_active and request.user.is_superuser

    def get_object(self, request, object_id, from_field=None):  # type: ignore[no-untyped-def]
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404(_("No such object."))
        return obj


class OperatorOnlyAdmin(
    AuditHistoryMixin,
    RefusableSavesMixin,
    SafeAutocompleteMixin,
    OperatorOnlyMixin,
    admin.ModelAdmin,
):
    pass


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, OperatorOnlyMixin, LogEntryAdmin):
    """The whole audit trail, across merchants: the operator reads it, nobody edits it. Merchant
    staff read the trail of their own objects on each object's History page."""


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(OperatorOnlyMixin, TOTPDeviceAdmin):
    """Two-factor authenticators: the operator may remove a lost one (its user then sets up a new
    one at the next sign-in); staff never see anyone's, not even their own key."""
