"""Distributors in the back office.

Adding is disabled here: a person becomes a distributor themselves, through the store
(``distributor_join``); a back-office "add" would need a picker over every user of the platform,
which would show one merchant the customers of all others. The inviter (parent) can be changed:
the node is moved under the tree locks, like ``distributor_join`` takes them. A move the service
refuses is a form error: nothing is saved, logged or reported as changed.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import MerchantScopedAdmin, ReadOnlyAdminMixin
from apps.core.errors import DomainError

from .models import CustomerBinding, Distributor
from .selectors import distributor_team_size
from .services import distributor_move, distributor_move_check, distributors_set_status


class MoveRefused(Exception):
    """``distributor_move`` refused a move the form had validated (the tree changed in between)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DistributorForm(forms.ModelForm):
    # Set (on a per-request subclass) when the previous attempt to save this form was refused.
    move_refused_message: str | None = None

    class Meta:
        model = Distributor
        fields = ("parent",)

    def clean_parent(self):  # type: ignore[no-untyped-def]
        parent = self.cleaned_data.get("parent")
        if self.move_refused_message is not None:
            raise forms.ValidationError(self.move_refused_message)
        if self.instance.pk and "parent" in self.changed_data:
            try:
                distributor_move_check(distributor=self.instance, new_parent=parent)
            except DomainError as error:
                raise forms.ValidationError(error.message) from error
        return parent


@admin.register(Distributor)
class DistributorAdmin(MerchantScopedAdmin):
    form = DistributorForm
    list_display = ("user", "invite_code", "parent", "level", "status", "joined_at")
    list_filter = ("status", "level", "joined_at")
    search_fields = ("invite_code", "user__username", "user__nickname", "user__phone")
    list_select_related = ("user", "parent__user")
    autocomplete_fields = ("parent",)
    fields = ("user", "invite_code", "parent", "status", "level", "team_size", "joined_at")
    readonly_fields = ("user", "invite_code", "status", "level", "team_size", "joined_at")
    actions = ("suspend_distributors", "reactivate_distributors")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.display(description=gettext_lazy("team size (all levels)"))
    def team_size(self, distributor: Distributor) -> int:
        return distributor_team_size(distributor=distributor)

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        refused = getattr(request, "distributor_move_refused", None)
        if refused is None:
            return form
        return type(form.__name__, (form,), {"move_refused_message": refused})

    def changeform_view(  # type: ignore[no-untyped-def]
        self, request, object_id=None, form_url="", extra_context=None
    ):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MoveRefused as refused:
            # The transaction of the first attempt is rolled back (no change, no log entry); the
            # page is built again from the same POST, with the refusal as the parent's error.
            request.distributor_move_refused = refused.message
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if "parent" not in form.changed_data:
            return
        try:
            distributor_move(distributor=obj, new_parent=form.cleaned_data["parent"])
        except DomainError as error:
            raise MoveRefused(error.message) from error

    @admin.action(description=gettext_lazy("Suspend selected distributors"))
    def suspend_distributors(self, request, queryset):  # type: ignore[no-untyped-def]
        count = distributors_set_status(
            queryset=queryset, old=Distributor.Status.ACTIVE, new=Distributor.Status.SUSPENDED
        )
        self.message_user(request, _("%(count)d distributor(s) suspended.") % {"count": count})

    @admin.action(description=gettext_lazy("Reactivate selected distributors"))
    def reactivate_distributors(self, request, queryset):  # type: ignore[no-untyped-def]
        count = distributors_set_status(
            queryset=queryset, old=Distributor.Status.SUSPENDED, new=Distributor.Status.ACTIVE
        )
        self.message_user(request, _("%(count)d distributor(s) reactivated.") % {"count": count})


@admin.register(CustomerBinding)
class CustomerBindingAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("customer", "distributor", "source", "bound_at")
    list_filter = ("source", "bound_at")
    search_fields = ("customer__username", "customer__phone", "distributor__invite_code")
    list_select_related = ("customer", "distributor__user")
