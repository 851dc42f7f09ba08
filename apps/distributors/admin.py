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

from apps.core.admin import MerchantScopedAdmin, ReadOnlyAdminMixin, SaveRefused
from apps.core.errors import DomainError

from .models import CustomerBinding, Distributor
from .selectors import distributor_team_size
from .services import distributor_move, distributor_move_check, distributors_set_status


class DistributorForm(forms.ModelForm):
    class Meta:
        model = Distributor
        fields = ("parent",)

    def clean_parent(self):  # type: ignore[no-untyped-def]
        parent = self.cleaned_data.get("parent")
        if self.instance.pk and "parent" in self.changed_data:
            try:
                distributor_move_check(distributor=self.instance, new_parent=parent)
            except DomainError as error:
                raise forms.ValidationError(error.message) from error
        return parent


@admin.register(Distributor)
class DistributorAdmin(MerchantScopedAdmin):
    form = DistributorForm
    list_display = (
        "user",
        "invite_code",
        "parent",
        "level",
        "status",
        "qualification",
        "joined_at",
    )
    list_filter = ("status", "qualification", "level", "joined_at")
    search_fields = ("invite_code", "user__username", "user__nickname", "user__phone")
    list_select_related = ("user", "parent__user")
    autocomplete_fields = ("parent",)
    fields = (
        "user",
        "invite_code",
        "parent",
        "status",
        "level",
        "team_size",
        "joined_at",
        "qualification",
        "tier",
    )
    readonly_fields = (
        "user",
        "invite_code",
        "status",
        "level",
        "team_size",
        "joined_at",
        "qualification",
        "tier",
    )
    actions = ("suspend_distributors", "reactivate_distributors")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.display(description=gettext_lazy("team size (all levels)"))
    def team_size(self, distributor: Distributor) -> int:
        return distributor_team_size(distributor=distributor)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if "parent" not in form.changed_data:
            return
        try:
            distributor_move(distributor=obj, new_parent=form.cleaned_data["parent"])
        except DomainError as error:
            # rolled back and shown as the parent's error (see RefusableSavesMixin)
            raise SaveRefused(error.message, field="parent") from error

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
    list_display = ("customer", "distributor", "source", "bound_at", "expires_at")
    list_filter = ("source", "bound_at")
    search_fields = ("customer__username", "customer__phone", "distributor__invite_code")
    list_select_related = ("customer", "distributor__user")


from . import admin_programme  # noqa: E402, F401  (registers the programme's admins)
