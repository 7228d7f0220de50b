"""Small input and output serializers of the webhooks Admin API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.conventions.fields import StrictBooleanField, StrictCharField
from tenants.webhooks.models import WEBHOOK_EVENT_CHOICES, WebhookDelivery
from tenants.webhooks.ssrf import MAX_URL_LENGTH


def _events_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES),
        allow_empty=False,
        min_length=1,
        max_length=len(WEBHOOK_EVENT_CHOICES),
        help_text="The event types this endpoint receives.",
        **kwargs,
    )


# --- Input ---------------------------------------------------------------------------


class EndpointInput(serializers.Serializer):
    url = StrictCharField(
        max_length=MAX_URL_LENGTH,
        help_text="An http(s) URL on the public internet; private and loopback addresses are refused.",
    )
    events = _events_field()
    description = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    is_active = StrictBooleanField(required=False, default=True)


class EndpointUpdateInput(serializers.Serializer):
    url = StrictCharField(max_length=MAX_URL_LENGTH, required=False)
    events = _events_field(required=False)
    description = StrictCharField(max_length=255, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class DeliveryQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)


# --- Output --------------------------------------------------------------------------


class EndpointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES))
    is_active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField(
        help_text="Failed attempts in a row; WEBHOOK_BREAKER_FAILURES of them pause the endpoint."
    )
    paused_until = serializers.DateTimeField(
        allow_null=True,
        help_text="The circuit breaker is open: no attempts before this; then one attempt probes the "
        "endpoint, and a success resumes every delivery. Changing the URL or re-enabling it resumes at once.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_...`). Shown only in this response; store it now."
    )


class AttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(allow_null=True, help_text="Null while the attempt is in flight.")
    response_status = serializers.IntegerField(allow_null=True, help_text="The endpoint's HTTP status.")
    response_body = serializers.CharField(help_text="The first kilobyte of the endpoint's answer.")
    error = serializers.CharField(help_text="Why no answer came (timeout, refused address, ...).")


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="Sent as `Storefleet-Delivery`; the same on every attempt.")
    endpoint = serializers.IntegerField(source="endpoint_id")
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempt_count = serializers.IntegerField(source="attempts")
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next attempt is due; null once succeeded or dead."
    )
    created_at = serializers.DateTimeField()
    payload = serializers.DictField(help_text="The JSON body sent.")
    attempts = AttemptOutput(many=True, source="attempt_log.all")
