"""The supplier's back office (its catalogue and stock) and the operator's supplier console."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.admin import OperatorOnlyAdmin
from apps.core.errors import DomainError

from .models import Supplier, SupplierApplication, SupplierStaff, SupplyProduct, SupplySku
from .scoping import SupplierScopedAdmin, SupplierScopedTabularInline, request_supplier
from .services import (
    supplier_application_approve,
    supplier_application_reject,
    supplier_staff_add,
    supply_product_remove,
    supply_product_save,
    supply_sku_save,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the supplier)"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class SupplySkuInline(SupplierScopedTabularInline):
    model = SupplySku
    extra = 1
    fields = (
        "name",
        "code",
        "supply_price",
        "suggested_retail_price",
        "min_retail_price",
        "stock",
        "is_active",
    )


@admin.register(SupplyProduct)
class SupplyProductAdmin(SupplierScopedAdmin):
    list_display = ("name", "is_listed", "removed_by_platform", "shipping_template", "created_at")
    list_filter = ("is_listed", "removed_by_platform", "shipping_template")
    search_fields = ("name",)
    inlines = [SupplySkuInline]
    actions = ("remove_from_catalogue",)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = [
            "name",
            "description",
            "image",
            "shipping_template",
            "dispatch_days",
            "after_sale_terms",
            "is_listed",
        ]
        if request.user.is_superuser:
            fields = ["supplier", *fields, "removed_by_platform", "removed_reason"]
        elif obj is not None and obj.removed_by_platform:
            fields += ["removed_by_platform", "removed_reason"]
        return fields

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["removed_by_platform", "removed_reason"]
            if obj is not None and obj.removed_by_platform:
                readonly.append("is_listed")
        return readonly

    def get_actions(self, request):  # type: ignore[no-untyped-def]
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("remove_from_catalogue", None)
        return actions

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change and not request.user.is_superuser:
            obj.supplier = request_supplier(request)
        supply_product_save(product=obj, changed=list(form.changed_data))

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        formset.save(commit=False)
        for instance in formset.new_objects:
            instance.supplier_id = form.instance.supplier_id
            supply_sku_save(sku=instance, changed=[])
        for instance, changed_data in formset.changed_objects:
            supply_sku_save(sku=instance, changed=list(changed_data))
        for deleted in formset.deleted_objects:
            deleted.delete()

    @admin.action(description=gettext_lazy("Take selected products off the catalogue…"))
    def remove_from_catalogue(self, request, queryset):  # type: ignore[no-untyped-def]
        products = list(queryset.order_by("pk"))
        if "post" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                for product in products:
                    supply_product_remove(product_id=product.pk, reason=form.cleaned_data["reason"])
                self.message_user(
                    request,
                    _("%(count)d product(s) taken off the catalogue.") % {"count": len(products)},
                )
                return HttpResponseRedirect(request.get_full_path())
        else:
            form = ReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Take products off the catalogue"),
            "opts": self.opts,
            "objects": products,
            "form": form,
            "action": "remove_from_catalogue",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/suppliers/reason.html", context)


@admin.register(SupplySku)
class SupplySkuAdmin(SupplierScopedAdmin):
    """The supplier's stock and prices at a glance; the stock column is edited in the list."""

    list_display = (
        "__str__",
        "code",
        "supply_price",
        "min_retail_price",
        "suggested_retail_price",
        "stock",
        "is_active",
    )
    list_editable = ("stock",)
    list_filter = ("is_active",)
    search_fields = ("name", "code", "product__name")
    list_select_related = ("product",)
    fields = (
        "product",
        "name",
        "code",
        "supply_price",
        "suggested_retail_price",
        "min_retail_price",
        "stock",
        "is_active",
    )

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            if not request.user.is_superuser:
                obj.supplier = request_supplier(request)
            elif obj.product_id:
                obj.supplier_id = obj.product.supplier_id
        supply_sku_save(sku=obj, changed=list(form.changed_data))


@admin.register(Supplier)
class SupplierAdmin(OperatorOnlyAdmin):
    list_display = ("name", "slug", "status", "categories", "contact_email", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "contact_email")
    readonly_fields = ("slug", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SupplierStaff)
class SupplierStaffAdmin(OperatorOnlyAdmin):
    list_display = ("user", "supplier", "role", "created_at")
    list_select_related = ("user", "supplier")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return super().has_change_permission(request, obj) and obj is None

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        membership = supplier_staff_add(supplier=obj.supplier, user=obj.user, role=obj.role)
        obj.pk, obj.created_at = membership.pk, membership.created_at
        obj._state.adding = False


@admin.register(SupplierApplication)
class SupplierApplicationAdmin(OperatorOnlyAdmin):
    """供应商入驻 review: approve (opens the supplier and its owner's back office) or reject with a
    reason; either way the applicant is emailed."""

    list_display = (
        "company_name",
        "slug",
        "applicant",
        "categories",
        "contact_name",
        "contact_phone",
        "status",
        "created_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("company_name", "slug", "contact_name", "contact_email", "applicant__username")
    list_select_related = ("applicant",)
    readonly_fields = [
        field.name for field in SupplierApplication._meta.fields if field.name != "id"
    ]
    actions = ("approve_applications",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(require_POST(self.approve_view)),
                name=f"{info[0]}_{info[1]}_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name=f"{info[0]}_{info[1]}_reject",
            ),
            *super().get_urls(),
        ]

    def _change_url(self, application: SupplierApplication) -> str:
        return reverse("admin:suppliers_supplierapplication_change", args=[application.pk])

    def _approve(self, request: HttpRequest, application: SupplierApplication) -> None:
        try:
            supplier = supplier_application_approve(
                application_id=application.pk,
                reviewer=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            self.message_user(
                request, f"{application.company_name}: {error.message}", messages.ERROR
            )
            return
        self.message_user(
            request,
            _("%(name)s approved: %(user)s can sign in to the supplier back office.")
            % {"name": supplier.name, "user": application.applicant.username},
            messages.SUCCESS,
        )

    def approve_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        application = self.get_object(request, unquote(object_id))
        self._approve(request, application)
        return redirect(self._change_url(application))

    def reject_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        application = self.get_object(request, unquote(object_id))
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                supplier_application_reject(
                    application_id=application.pk,
                    reviewer=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(name)s rejected.") % {"name": application.company_name},
                    messages.SUCCESS,
                )
            return redirect(self._change_url(application))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject the application"),
            "opts": self.opts,
            "objects": [application],
            "form": form,
            "action": None,
        }
        return TemplateResponse(request, "admin/suppliers/reason.html", context)

    @admin.action(description=gettext_lazy("Approve selected applications"))
    def approve_applications(self, request, queryset):  # type: ignore[no-untyped-def]
        for application in queryset.select_related("applicant").order_by("pk"):
            self._approve(request, application)
