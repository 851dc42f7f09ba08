"""The books in the admin: read-only, scoped to the staff's merchant."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from .models import Journal, LedgerEntry, Wallet


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
