"""Agency mode (差价) in the SKU admin: the purchase prices of a SKU per tier, as an inline.

Products knows nothing of distributors, so the SKU admin it registers is extended here: the
distributors app (above products) registers ``AgencySkuAdmin`` in its place. Admin discovery runs
in ``INSTALLED_APPS`` order, so the products admin is registered before this module replaces it.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.core.admin import SaveRefused
from apps.core.errors import DomainError
from apps.products.admin import SkuAdmin
from apps.products.models import Sku
from apps.tenancy.admin import MerchantScopedTabularInline

from .agency import tier_price_create, tier_price_delete, tier_price_update
from .models import TierSkuPrice


class TierSkuPriceInline(MerchantScopedTabularInline):
    """Agency mode purchase prices of a SKU: one per tier, and a base price (no tier) for the
    rest. A SKU without any is not sold at distributors' own prices. Written by the services."""

    model = TierSkuPrice
    fields = ("tier", "purchase_price")
    extra = 1
    verbose_name = gettext_lazy("agency purchase price")
    verbose_name_plural = gettext_lazy("agency purchase prices (差价模式)")


class AgencySkuAdmin(SkuAdmin):
    """The products' SKU admin with the agency purchase prices inline, saved through the agency
    services (a refusal rolls the whole save back and shows as a form error)."""

    inlines = (*SkuAdmin.inlines, TierSkuPriceInline)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        if formset.model is not TierSkuPrice:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # builds the instances and the change message; writes nothing
        sku: Sku = form.instance
        merchant = sku.merchant
        try:
            for row in formset.deleted_objects:
                tier_price_delete(merchant=merchant, tier_price_id=row.pk)
            for row, _changed in formset.changed_objects:
                tier_price_update(
                    merchant=merchant,
                    tier_price_id=row.pk,
                    tier_id=row.tier_id,
                    purchase_price=row.purchase_price,
                )
            for row in formset.new_objects:
                created = tier_price_create(
                    merchant=merchant,
                    tier_id=row.tier_id,
                    sku_id=sku.pk,
                    purchase_price=row.purchase_price,
                )
                row.pk, row.merchant_id = created.pk, created.merchant_id
        except DomainError as error:
            raise SaveRefused(error.message) from error


admin.site.unregister(Sku)
admin.site.register(Sku, AgencySkuAdmin)
