"""Platform-level admins: users, groups and API tokens are the operator's alone."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from apps.core.admin import OperatorOnlyMixin, PhoneSearchMixin
from apps.core.personal import phone_index

from .models import USER_PHONE, User


@admin.register(User)
class UserAdmin(PhoneSearchMixin, OperatorOnlyMixin, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("nickname", "phone", "first_name", "last_name", "email")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    list_display = (
        "username",
        "nickname",
        "phone",
        "email",
        "is_staff",
        "is_superuser",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
    # The phone is encrypted: found by its blind index (the exact number, however written).
    search_fields = ("username", "nickname", "email", "first_name", "last_name")
    phone_search = (("phone_index", USER_PHONE),)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.phone_index = phone_index(obj.phone, purpose=USER_PHONE)
        super().save_model(request, obj, form, change)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(OperatorOnlyMixin, DjangoGroupAdmin):
    pass


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(OperatorOnlyMixin, DrfTokenAdmin):
    autocomplete_fields = ("user",)
