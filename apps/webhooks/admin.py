from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdminMixin
from apps.tenancy.admin import MerchantScopedAdmin, MerchantScopedTabularInline

from .models import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services import webhook_endpoint_validate, webhook_resend
from .tasks import webhooks_enqueue_on_commit


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("event types"),
        choices=[(name, name) for name in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "is_active"]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if "url" in cleaned:
            cleaned["event_types"] = webhook_endpoint_validate(
                url=cleaned["url"], event_types=list(cleaned.get("event_types") or [])
            )
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(MerchantScopedAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "description", "is_active", "created_at")
    readonly_fields = ("secret", "created_at")

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = ["url", "description", "event_types", "is_active"]
        return fields + ["secret", "created_at"] if obj is not None else fields


class WebhookAttemptInline(ReadOnlyAdminMixin, MerchantScopedTabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("event_id", "event_type")
    readonly_fields = (
        "endpoint",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    inlines = (WebhookAttemptInline,)
    actions = ("resend",)

    @admin.action(description=gettext_lazy("Resend the selected deliveries (same event id)"))
    def resend(self, request, queryset):  # type: ignore[no-untyped-def]
        deliveries = list(queryset)
        for delivery in deliveries:
            webhook_resend(delivery=delivery)
        webhooks_enqueue_on_commit(delivery.pk for delivery in deliveries)
        self.message_user(
            request,
            gettext_lazy("%(count)d deliveries will be sent again.") % {"count": len(deliveries)},
            messages.SUCCESS,
        )
