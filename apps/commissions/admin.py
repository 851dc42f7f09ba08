"""Commission settings (editable by the merchant) and the money trail (read-only: records, wallets
and the append-only ledger are written by the settlement services alone)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.core.admin import (
    MerchantScopedAdmin,
    MerchantScopedTabularInline,
    ReadOnlyAdminMixin,
    request_merchant,
)

from .models import CommissionPlan, CommissionRecord, Journal, LedgerEntry, Wallet
from .services import PLAN_FIELDS, commission_plan_update


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


@admin.register(CommissionRecord)
class CommissionRecordAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "id",
        "order",
        "beneficiary",
        "level",
        "base_amount",
        "rate_percent",
        "amount",
        "status",
        "release_at",
        "released_at",
        "created_at",
    )
    list_filter = ("status", "level", "created_at")
    search_fields = ("order__number", "beneficiary__invite_code", "beneficiary__user__username")
    list_select_related = ("order", "beneficiary__user")
    date_hierarchy = "created_at"


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "distributor",
        "frozen",
        "available",
        "withdrawing",
        "withdrawn",
        "total_earned",
    )
    search_fields = ("distributor__invite_code", "distributor__user__username")
    list_select_related = ("distributor__user",)

    @admin.display(description=gettext_lazy("total earned"))
    def total_earned(self, wallet: Wallet):  # type: ignore[no-untyped-def]
        return wallet.total_earned


class LedgerEntryInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = LedgerEntry
    fields = ("account", "distributor", "amount", "commission")
    readonly_fields = fields
    extra = 0


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("id", "created_at", "kind", "key", "order", "reference", "memo")
    list_filter = ("kind", "created_at")
    search_fields = ("key", "reference", "order__number")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("id", "created_at", "journal", "account", "distributor", "amount", "commission")
    list_filter = ("account", "journal__kind", "created_at")
    search_fields = ("distributor__invite_code", "distributor__user__username", "journal__key")
    list_select_related = ("distributor__user", "commission", "journal")
    date_hierarchy = "created_at"
