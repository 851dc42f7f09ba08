"""Members in the back office: levels, settings, tags, the member list (with export) and the
points history (read-only: points move through the members services only)."""

import csv
from decimal import Decimal

from django.contrib import admin
from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import USER_PHONE
from apps.core.admin import PhoneSearchMixin, ReadOnlyAdminMixin
from apps.distributors.models import CustomerBinding
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import Member, MemberLevel, MemberSettings, MemberTag, PointsEntry, SpendEntry


@admin.register(MemberSettings)
class MemberSettingsAdmin(MerchantScopedAdmin):
    list_display = (
        "points_per_yuan_earned",
        "points_per_yuan_redeemed",
        "points_max_percent",
        "points_valid_days",
        "level_period_days",
    )
    fields = list_display

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if not super().has_add_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        return not MemberSettings.objects.filter(merchant=request_merchant(request)).exists()

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(MemberLevel)
class MemberLevelAdmin(MerchantScopedAdmin):
    list_display = ("name", "min_spend", "discount_percent", "member_count")
    fields = ("name", "min_spend", "discount_percent")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.annotate(member_total=Count("members"))

    @admin.display(description=gettext_lazy("members"), ordering="member_total")
    def member_count(self, obj: MemberLevel) -> int:
        return obj.member_total  # type: ignore[attr-defined]


@admin.register(MemberTag)
class MemberTagAdmin(MerchantScopedAdmin):
    list_display = ("name",)
    fields = ("name",)
    search_fields = ("name",)


class PointsEntryInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = PointsEntry
    fields = ("created_at", "kind", "points", "order", "expires_at", "remaining", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("points history")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("order")


MEMBER_COLUMNS = (
    "user",
    "level",
    "points_balance",
    "order_count",
    "spend",
    "last_order",
    "bound_distributor",
    "tag_list",
)


@admin.register(Member)
class MemberAdmin(PhoneSearchMixin, MerchantScopedAdmin):
    """The member list: level, points, orders, spend, last order, bound distributor, tags."""

    list_display = MEMBER_COLUMNS
    list_filter = ("level", "tags")
    list_select_related = ("user", "level")
    # The phone is encrypted: found by its blind index (the exact number, however written).
    search_fields = ("user__username",)
    phone_search = (("user__phone_index", USER_PHONE),)
    fields = ("user", "level", "points_balance", "tags", "created_at")
    readonly_fields = ("user", "points_balance", "created_at")
    filter_horizontal = ("tags",)
    inlines = [PointsEntryInline]
    actions = ("export_csv",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # members come from customers (an order, a coupon)

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        paid = ("paid", "shipped", "completed")
        bound = CustomerBinding.objects.filter(
            merchant=OuterRef("merchant"), customer=OuterRef("user")
        ).values("distributor__user__username")[:1]
        return (
            queryset.select_related("user", "level", "merchant")
            .prefetch_related("tags")
            .annotate(
                orders_total=Count(
                    "user__orders",
                    filter=Q(user__orders__merchant_id=F("merchant_id"))
                    & Q(user__orders__status__in=paid),
                    distinct=True,
                ),
                spend_total=Coalesce(
                    Subquery(
                        SpendEntry.objects.filter(member=OuterRef("pk"))
                        .values("member")
                        .annotate(total=Sum("amount"))
                        .values("total")[:1]
                    ),
                    Value(Decimal("0.00")),
                    output_field=DecimalField(max_digits=12, decimal_places=2),
                ),
                last_order_at=Max(
                    "user__orders__created_at",
                    filter=Q(user__orders__merchant_id=F("merchant_id")),
                ),
                bound_to=Subquery(bound),
            )
        )

    @admin.display(description=gettext_lazy("orders"), ordering="orders_total")
    def order_count(self, obj: Member) -> int:
        return obj.orders_total  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("spend"), ordering="spend_total")
    def spend(self, obj: Member):  # type: ignore[no-untyped-def]
        return obj.spend_total  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("last order"), ordering="last_order_at")
    def last_order(self, obj: Member):  # type: ignore[no-untyped-def]
        return obj.last_order_at  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("bound distributor"))
    def bound_distributor(self, obj: Member) -> str:
        return obj.bound_to or "-"  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("tags"))
    def tag_list(self, obj: Member) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())

    @admin.action(description=gettext_lazy("Export the selected members (CSV)"))
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:  # type: ignore[no-untyped-def]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="members.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(
            [
                _("customer"),
                _("level"),
                _("points"),
                _("orders"),
                _("spend"),
                _("last order"),
                _("bound distributor"),
                _("tags"),
            ]
        )
        for member in queryset:
            writer.writerow(
                [
                    member.user.username,
                    member.level.name if member.level else "",
                    member.points_balance,
                    member.orders_total,
                    member.spend_total,
                    member.last_order_at.isoformat() if member.last_order_at else "",
                    member.bound_to or "",
                    self.tag_list(member),
                ]
            )
        return response
