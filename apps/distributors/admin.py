"""Distributors in the back office.

Adding is disabled here: a person becomes a distributor themselves, through the store
(``distributor_join``); a back-office "add" would need a picker over every user of the platform,
which would show one merchant the customers of all others. The inviter (parent) can be changed:
the node is moved under the tree locks, like ``distributor_join`` takes them. A move the service
refuses is a form error: nothing is saved, logged or reported as changed.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import USER_PHONE
from apps.core.admin import PhoneSearchMixin, ReadOnlyAdminMixin, SaveRefused
from apps.core.errors import DomainError
from apps.merchants.models import Merchant
from apps.tenancy.admin import MerchantScopedAdmin, request_merchant

from .imports import import_job_create, import_job_progress
from .models import CustomerBinding, Distributor, DistributorPrice, ImportJob
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


IMPORT_MAX_BYTES = 32 * 1024 * 1024


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, a header row, columns: username or phone, name, upline (another row's "
            "username/phone or an invite code of this store; blank: a new tree), invite_code "
            "(optional)."
        ),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 32 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None


@admin.register(Distributor)
class DistributorAdmin(PhoneSearchMixin, MerchantScopedAdmin):
    form = DistributorForm
    change_list_template = "admin/distributors/distributor/change_list.html"
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
    search_fields = ("invite_code", "user__username", "user__nickname")
    phone_search = (("user__phone_index", USER_PHONE),)
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

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="distributors_distributor_import",
            ),
            path(
                "import/<int:job_id>/",
                self.admin_site.admin_view(self.import_progress_view),
                name="distributors_distributor_import_progress",
            ),
            path(
                "import/<int:job_id>/status/",
                self.admin_site.admin_view(self.import_status_view),
                name="distributors_distributor_import_status",
            ),
            *super().get_urls(),
        ]

    def _import_merchant(self, request: HttpRequest) -> Merchant:
        """Imports belong to one store: its staff only (the operator imports with the command)."""
        merchant = request_merchant(request)
        if merchant is None:
            raise PermissionDenied
        return merchant

    def _import_job(self, request: HttpRequest, job_id: int) -> ImportJob:
        job = ImportJob.objects.filter(merchant=self._import_merchant(request), pk=job_id).first()
        if job is None:
            raise Http404
        return job

    def import_view(self, request: HttpRequest) -> HttpResponse:
        merchant = self._import_merchant(request)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = import_job_create(
                merchant=merchant,
                created_by=request.user,  # type: ignore[arg-type]
                file_name=getattr(request.FILES.get("file"), "name", "") or "",
                text=form.cleaned_data["file"],
            )
            return redirect(
                reverse("admin:distributors_distributor_import_progress", args=[job.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import distributors"),
            "opts": self.opts,
            "form": form,
            "jobs": ImportJob.objects.filter(merchant=merchant).select_related("created_by")[:10],
        }
        return TemplateResponse(request, "admin/distributors/distributor/import.html", context)

    def import_progress_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._import_job(request, job_id)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import distributors"),
            "opts": self.opts,
            "job": job,
            "progress": import_job_progress(job=job),
            "status_url": reverse("admin:distributors_distributor_import_status", args=[job.pk]),
        }
        return TemplateResponse(
            request, "admin/distributors/distributor/import_progress.html", context
        )

    def import_status_view(self, request: HttpRequest, job_id: int) -> JsonResponse:
        return JsonResponse(import_job_progress(job=self._import_job(request, job_id)))

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
class CustomerBindingAdmin(ReadOnlyAdminMixin, PhoneSearchMixin, MerchantScopedAdmin):
    list_display = ("customer", "distributor", "source", "bound_at", "expires_at")
    list_filter = ("source", "bound_at")
    search_fields = ("customer__username", "distributor__invite_code")
    phone_search = (("customer__phone_index", USER_PHONE),)
    list_select_related = ("customer", "distributor__user")


@admin.register(DistributorPrice)
class DistributorPriceAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """Distributors' resale prices in their micro-shops (agency mode): set by the distributors
    within each SKU's floor and ceiling, read-only here."""

    list_display = ("distributor", "sku", "price", "updated_at")
    list_filter = ("updated_at",)
    search_fields = ("distributor__invite_code", "distributor__user__username", "sku__code")
    list_select_related = ("distributor__user", "sku__product")


# The programme's admins, and the SKU admin with agency prices in place of the products' one.
from . import admin_agency, admin_programme  # noqa: E402, F401
