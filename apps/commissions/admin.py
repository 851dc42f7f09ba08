"""Commission settings (editable by the merchant) and the money trail (read-only: records, wallets
and the append-only ledger are written by the settlement services alone)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord
from .services import PLAN_FIELDS, commission_plan_update
from .simulation import DEFAULT_DAYS, commission_plan_simulate

SIMULATED_FIELDS = ("level1_percent", "level2_percent", "level3_percent", "max_total_percent")


class BonusTierInline(MerchantScopedTabularInline):
    """阶梯: extra level-1 percent once a distributor's monthly sales reach a threshold."""

    model = BonusTier
    fields = ("monthly_sales_threshold", "extra_percent")
    extra = 0


@admin.register(CommissionPlan)
class CommissionPlanAdmin(MerchantScopedAdmin):
    """One plan per merchant (created with the merchant). The model's ``clean`` keeps the levels
    within the cap; its message shows on the form. Changes are saved by ``commission_plan_update``,
    which checks them again with the row locked."""

    list_display = (
        "__str__",
        "level1_percent",
        "level2_percent",
        "level3_percent",
        "max_total_percent",
        "freeze_days",
        "is_enabled",
        "updated_at",
    )
    list_filter = ("is_enabled",)
    search_fields = ("merchant__name", "merchant__slug")
    list_select_related = ("merchant",)
    readonly_fields = ("updated_at",)
    inlines = (BonusTierInline,)
    change_form_template = "admin/commissions/commissionplan/change_form.html"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        """ "Simulate" (``_simulate``) shows what the last N days of completed orders would have
        paid under the values on the form, next to what they paid, and saves nothing: the form
        is shown again, bound to the submitted values, with the comparison above it."""
        if request.method != "POST" or "_simulate" not in request.POST or object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        plan = self.get_object(request, unquote(object_id))
        if plan is None or not self.has_change_permission(request, plan):
            return super().changeform_view(request, object_id, form_url, extra_context)
        form = self.get_form(request, plan, change=True)(request.POST, instance=plan)
        context = dict(extra_context or {})
        days_text = request.POST.get("simulate_days", "") or str(DEFAULT_DAYS)
        context["simulate_days"] = days_text
        if form.is_valid():
            proposed = {name: form.cleaned_data[name] for name in SIMULATED_FIELDS}
            try:
                days = int(days_text) if days_text.isdigit() else -1
                context["simulation"] = commission_plan_simulate(
                    merchant=plan.merchant, proposed=proposed, days=days
                )
            except DomainError as error:
                context["simulation_error"] = error.message
        request.simulation_data = request.POST
        request.method = "GET"  # render the change form without saving (CSRF already checked)
        return super().changeform_view(request, object_id, form_url, context)

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        data = getattr(request, "simulation_data", None)
        if data is None:
            return form

        class SimulatedForm(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                if not args and "data" not in kwargs:
                    kwargs["data"] = data
                super().__init__(*args, **kwargs)

        return SimulatedForm

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if not super().has_add_permission(request):
            return False
        if request.user.is_superuser:
            return True
        return not CommissionPlan.objects.filter(merchant=request_merchant(request)).exists()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:  # only when the plan is missing (see has_add_permission)
            super().save_model(request, obj, form, change)
            return
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in PLAN_FIELDS
        }
        if fields:
            # refused: a form error, nothing saved, logged or reported (RefusableSavesMixin)
            commission_plan_update(merchant=obj.merchant, **fields)


@admin.register(CommissionOverride)
class CommissionOverrideAdmin(MerchantScopedAdmin):
    """A product's or SKU's own commission per level; an empty level falls through to the tier,
    then the plan."""

    list_display = (
        "id",
        "product",
        "sku",
        "mode",
        "level1_value",
        "level2_value",
        "level3_value",
        "updated_at",
    )
    list_filter = ("mode",)
    search_fields = ("product__name", "sku__code", "sku__name", "sku__product__name")
    list_select_related = ("product", "sku__product")
    autocomplete_fields = ("product", "sku")
    fields = ("product", "sku", "mode", "level1_value", "level2_value", "level3_value")


@admin.register(CommissionRecord)
class CommissionRecordAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "id",
        "order",
        "beneficiary",
        "level",
        "kind",
        "rule",
        "base_amount",
        "quantity",
        "rate_percent",
        "bonus_percent",
        "amount",
        "status",
        "release_at",
        "released_at",
        "created_at",
    )
    list_filter = ("status", "level", "kind", "rule", "created_at")
    readonly_fields = ("how_calculated",)

    @admin.display(description=gettext_lazy("how it was calculated"))
    def how_calculated(self, record: CommissionRecord) -> str:
        return record.explanation_text

    search_fields = ("order__number", "beneficiary__invite_code", "beneficiary__user__username")
    list_select_related = ("order", "beneficiary__user")
    date_hierarchy = "created_at"
