"""The material library in the back office: write, publish / unpublish, see who read what."""

from django.contrib import admin
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from .models import Material, MaterialRead
from .services import material_check, material_set_published


class MaterialReadInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = MaterialRead
    fields = ("distributor", "first_read_at", "last_read_at", "read_count")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = gettext_lazy("who read it")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.select_related("distributor__user")


@admin.register(Material)
class MaterialAdmin(MerchantScopedAdmin):
    list_display = (
        "title",
        "kind",
        "category",
        "is_published",
        "published_at",
        "sort",
        "reader_count",
        "read_total",
    )
    list_filter = ("kind", "is_published", "category")
    search_fields = ("title", "category", "body")
    fields = (
        "kind",
        "title",
        "category",
        "body",
        "image",
        "file",
        "sort",
        "is_published",
        "published_at",
    )
    readonly_fields = ("published_at",)
    inlines = [MaterialReadInline]
    actions = ("publish", "unpublish")

    def scope_queryset(self, queryset):  # type: ignore[no-untyped-def]
        return queryset.annotate(reader_count=Count("reads"), read_total=Sum("reads__read_count"))

    @admin.display(description=gettext_lazy("readers"), ordering="reader_count")
    def reader_count(self, material: Material) -> int:
        return material.reader_count  # type: ignore[attr-defined]

    @admin.display(description=gettext_lazy("reads"), ordering="read_total")
    def read_total(self, material: Material) -> int:
        return material.read_total or 0  # type: ignore[attr-defined]

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change, **kwargs)

        class CheckedForm(form):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                try:
                    material_check(material=self.instance)
                except DomainError as error:
                    self.add_error(None, error.message)

        return CheckedForm

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if obj.is_published and ("is_published" in form.changed_data or not obj.published_at):
            obj.published_at = timezone.now()
            form.changed_data.append("published_at")
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Publish selected materials"))
    def publish(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_published(request, queryset, True)

    @admin.action(description=gettext_lazy("Unpublish selected materials"))
    def unpublish(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, published: bool) -> None:  # type: ignore[no-untyped-def]
        changed, refused = 0, []
        for material in queryset.order_by("pk"):
            try:
                changed += material_set_published(material=material, published=published)
            except DomainError as error:
                refused.append(f"{material.title}: {error.message}")
        self.message_user(request, _("%(count)d material(s) changed.") % {"count": changed})
        for message in refused:
            self.message_user(request, message, level="error")


@admin.register(MaterialRead)
class MaterialReadAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("material", "distributor", "first_read_at", "last_read_at", "read_count")
    list_filter = ("material", "last_read_at")
    search_fields = ("material__title", "distributor__invite_code", "distributor__user__nickname")
    list_select_related = ("material", "distributor__user")
