"""The marketing centre in the back office: coupons (and issuing them), promotions, flash sales.

What scarce things are sold through (a coupon's issued count, a flash pool) is never edited by
hand: a flash sale is created through ``flash_sale_create`` (the pool leaves the SKU's stock) and
its window and pool are read-only afterwards; coupons are handed out by ``coupon_issue``.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.members.models import Member, MemberLevel, MemberTag
from apps.products.versions import catalogue_changed
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline, request_merchant

from .models import Coupon, CouponGrant, FlashSale, Promotion, PromotionPrice, PromotionStep
from .services import (
    coupon_issue,
    flash_sale_check,
    flash_sale_create,
    promotion_price_check,
)


@admin.register(Coupon)
class CouponAdmin(MerchantScopedAdmin):
    list_display = (
        "name",
        "kind",
        "amount_off",
        "percent_off",
        "threshold",
        "issued_count",
        "total_quantity",
        "used",
        "valid_until",
        "is_active",
    )
    list_filter = ("kind", "is_active", "claimable", "distributor_shareable")
    search_fields = ("name",)
    fields = (
        "name",
        "kind",
        "amount_off",
        "percent_off",
        "max_discount",
        "threshold",
        "valid_from",
        "valid_until",
        "valid_days",
        "total_quantity",
        "issued_count",
        "per_person_limit",
        "scope",
        "products",
        "stackable",
        "claimable",
        "distributor_shareable",
        "is_active",
    )
    readonly_fields = ("issued_count",)
    filter_horizontal = ("products",)
    change_form_template = "admin/marketing/coupon/change_form.html"

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.annotate(
            used_count=Count("grants", filter=Q(grants__status=CouponGrant.Status.USED))
        )

    @admin.display(description=gettext_lazy("used"), ordering="used_count")
    def used(self, obj: Coupon) -> int:
        return obj.used_count  # type: ignore[attr-defined]

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<path:object_id>/issue/",
                self.admin_site.admin_view(self.issue_view),
                name="marketing_coupon_issue",
            ),
            *super().get_urls(),
        ]

    def issue_view(self, request: HttpRequest, object_id: str):  # type: ignore[no-untyped-def]
        coupon = self.get_object(request, object_id)
        if coupon is None or not self.has_change_permission(request, coupon):
            from django.http import Http404

            raise Http404
        form = CouponIssueForm(request.POST or None, merchant_id=coupon.merchant_id)
        if request.method == "POST" and form.is_valid():
            issued, skipped = coupon_issue(
                coupon=coupon,
                users=[member.user for member in form.cleaned_data["members"]],
                tag=form.cleaned_data["tag"],
                level=form.cleaned_data["level"],
            )
            messages.success(
                request,
                _("Issued %(issued)d; skipped %(skipped)d (limit reached or none left).")
                % {"issued": issued, "skipped": skipped},
            )
            return redirect(reverse("admin:marketing_coupon_change", args=[coupon.pk]))
        return TemplateResponse(
            request,
            "admin/marketing/coupon/issue.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Issue “%(name)s” to members") % {"name": coupon.name},
                "coupon": coupon,
                "form": form,
                "opts": self.model._meta,
            },
        )


class CouponIssueForm(forms.Form):
    members: "forms.ModelMultipleChoiceField[Member]" = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Members"), queryset=None, required=False
    )
    tag: "forms.ModelChoiceField[MemberTag]" = forms.ModelChoiceField(
        label=gettext_lazy("Everyone tagged"), queryset=None, required=False
    )
    level: "forms.ModelChoiceField[MemberLevel]" = forms.ModelChoiceField(
        label=gettext_lazy("Everyone at level"), queryset=None, required=False
    )

    def __init__(self, *args, merchant_id: int, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Member.objects.filter(  # type: ignore[attr-defined]
            merchant_id=merchant_id
        ).select_related("user")
        self.fields["tag"].queryset = MemberTag.objects.filter(  # type: ignore[attr-defined]
            merchant_id=merchant_id
        )
        self.fields["level"].queryset = MemberLevel.objects.filter(  # type: ignore[attr-defined]
            merchant_id=merchant_id
        )

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if not (cleaned.get("members") or cleaned.get("tag") or cleaned.get("level")):
            raise forms.ValidationError(_("Choose members, a tag or a level."))
        return cleaned


@admin.register(CouponGrant)
class CouponGrantAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "coupon",
        "customer",
        "status",
        "source",
        "distributor",
        "valid_until",
        "order",
        "claimed_at",
    )
    list_filter = ("status", "source", "coupon")
    search_fields = ("customer__username", "coupon__name")
    list_select_related = ("coupon", "customer", "distributor__user", "order")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related(
            "coupon", "customer", "distributor__user", "order", "merchant"
        )


class PromotionPriceForm(forms.ModelForm):
    class Meta:
        model = PromotionPrice
        fields = ("sku", "price")

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        sku, price = cleaned.get("sku"), cleaned.get("price")
        if sku is not None and price is not None:
            try:
                promotion_price_check(sku=sku, price=price)
            except DomainError as error:
                self.add_error("price", error.message)
        return cleaned


class PromotionPriceInline(MerchantScopedTabularInline):
    model = PromotionPrice
    form = PromotionPriceForm
    fields = ("sku", "price")
    extra = 1
    verbose_name_plural = gettext_lazy("limited-time prices")


class PromotionStepInline(MerchantScopedTabularInline):
    model = PromotionStep
    fields = ("threshold", "amount_off", "percent_off")
    extra = 1
    verbose_name_plural = gettext_lazy("reduction steps (full reduction)")


@admin.register(Promotion)
class PromotionAdmin(MerchantScopedAdmin):
    list_display = ("name", "kind", "starts_at", "ends_at", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    fields = ("name", "kind", "starts_at", "ends_at", "products", "is_active")
    filter_horizontal = ("products",)
    inlines = [PromotionPriceInline, PromotionStepInline]

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        catalogue_changed(merchant_id=form.instance.merchant_id)  # prices on the store pages


class FlashSaleForm(forms.ModelForm):
    class Meta:
        model = FlashSale
        fields = ("name", "sku", "price", "starts_at", "ends_at", "pool", "per_person_limit")

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if self.instance.pk is not None:  # after creation only the name and price change
            return cleaned
        values = [cleaned.get(name) for name in self.Meta.fields[1:]]
        if any(value is None for value in values):
            return cleaned
        sku, price, starts_at, ends_at, pool, limit = values
        try:
            flash_sale_check(
                merchant=sku.merchant,
                sku=sku,
                price=price,
                starts_at=starts_at,
                ends_at=ends_at,
                pool=pool,
                per_person_limit=limit,
            )
        except DomainError as error:
            field = {"supplied_sku": "sku", "below_floor": "price", "invalid_pool": "pool"}
            self.add_error(field.get(error.code), error.message)
        return cleaned


@admin.register(FlashSale)
class FlashSaleAdmin(MerchantScopedAdmin):
    form = FlashSaleForm
    list_display = (
        "name",
        "sku",
        "price",
        "starts_at",
        "ends_at",
        "pool",
        "remaining",
        "per_person_limit",
        "returned_at",
    )
    search_fields = ("name", "sku__code", "sku__product__name")
    list_select_related = ("sku__product",)

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("sku__product", "merchant")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return super().get_readonly_fields(request, obj)
        # After creation only the name and the flash price may change: the pool has left the
        # SKU's stock and the window governs units already sold.
        return (
            "sku",
            "starts_at",
            "ends_at",
            "pool",
            "remaining",
            "per_person_limit",
            "returned_at",
        )

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            catalogue_changed(merchant_id=obj.merchant_id)
            return super().save_model(request, obj, form, change)
        merchant = obj.merchant if request.user.is_superuser else request_merchant(request)
        try:
            created = flash_sale_create(
                merchant=merchant,
                sku=obj.sku,
                name=obj.name,
                price=obj.price,
                starts_at=obj.starts_at,
                ends_at=obj.ends_at,
                pool=obj.pool,
                per_person_limit=obj.per_person_limit,
            )
        except DomainError:
            raise
        obj.pk = created.pk
        obj.remaining = created.remaining
        obj.merchant = created.merchant
