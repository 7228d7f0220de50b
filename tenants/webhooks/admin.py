"""Django admin for staff: endpoints and the delivery log, read-only (changes go through the API, audited)."""

from typing import Any

from django.contrib import admin

from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "is_active", "paused_until", "consecutive_failures", "events", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    # Never the secret: staff have no need to see it, and the merchant saw it once.
    fields = [
        "url",
        "description",
        "events",
        "is_active",
        "paused_until",
        "consecutive_failures",
        "consecutive_pauses",
        "created_at",
        "updated_at",
    ]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ["number", "started_at", "duration_ms", "response_status", "error"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "endpoint", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["id", "event_id"]
    list_select_related = ["endpoint"]
    inlines = [WebhookAttemptInline]
