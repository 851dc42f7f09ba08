"""Group buying in the back office: campaigns (created through ``groupbuy_create``), and the
groups with their members, read-only (seats, payments and refunds move only by the services)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import Group, GroupBuy, GroupMember
from .services import groupbuy_create


class GroupBuyForm(forms.ModelForm):
    class Meta:
        model = GroupBuy
        fields = (
            "name",
            "sku",
            "group_price",
            "group_size",
            "time_limit_hours",
            "starts_at",
            "ends_at",
            "per_person_limit",
            "is_active",
        )


@admin.register(GroupBuy)
class GroupBuyAdmin(MerchantScopedAdmin):
    form = GroupBuyForm
    list_display = (
        "name",
        "sku",
        "group_price",
        "group_size",
        "time_limit_hours",
        "starts_at",
        "ends_at",
        "per_person_limit",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "sku__code", "sku__product__name")
    list_select_related = ("sku__product",)

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("sku__product", "merchant")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return super().get_readonly_fields(request, obj)
        # Groups already opened were promised this SKU, price, size and time limit.
        return ("sku", "group_price", "group_size", "time_limit_hours", "per_person_limit")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            return super().save_model(request, obj, form, change)
        merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
        created = groupbuy_create(
            merchant=merchant,
            sku=obj.sku,
            name=obj.name,
            group_price=obj.group_price,
            group_size=obj.group_size,
            time_limit_hours=obj.time_limit_hours,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            per_person_limit=obj.per_person_limit,
        )
        if not obj.is_active:
            GroupBuy.objects.filter(pk=created.pk).update(is_active=False)
        obj.pk = created.pk
        obj.merchant = created.merchant
        obj.created_at = created.created_at


class GroupMemberInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = GroupMember
    fields = ("customer", "order", "quantity", "is_leader", "status", "paid_at", "refund_case")
    readonly_fields = fields
    extra = 0


@admin.register(Group)
class GroupAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "id",
        "campaign",
        "leader",
        "status",
        "seats",
        "opened_at",
        "deadline",
        "filled_at",
        "closed_at",
    )
    list_filter = ("status",)
    search_fields = ("campaign__name", "leader__username")
    list_select_related = ("campaign", "leader")
    inlines = [GroupMemberInline]

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("campaign", "leader", "merchant")

    @admin.display(description=gettext_lazy("seats (paid / taken / size)"))
    def seats(self, obj: Group) -> str:
        return f"{obj.paid_count} / {obj.seats_taken} / {obj.size}"
