"""
A shop's webhook endpoints, one delivery per (endpoint, event), and every
attempt made to deliver it.
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models


class EventType(models.TextChoices):
    """The events a shop can subscribe an endpoint to (SPEC section 7)."""

    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_FULFILLED = "order.fulfilled"
    ORDER_PARTIALLY_FULFILLED = "order.partially_fulfilled"  # some units shipped, more to come
    ORDER_CANCELLED = "order.cancelled"
    ORDER_EXPIRED = "order.expired"  # unpaid past its time: cancelled, its stock returned
    ORDER_REFUNDED = "order.refunded"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    INVENTORY_LOW = "inventory.low"
    DISCOUNT_CREATED = "discount.created"
    DISCOUNT_UPDATED = "discount.updated"
    DISCOUNT_DELETED = "discount.deleted"


class WebhookEndpoint(models.Model):
    """
    A URL of the merchant's (or an integrator's) that receives the events it
    subscribed to. The secret signs every delivery; it is kept as it was issued
    because HMAC signing needs it (unlike API keys, which are only compared).
    """

    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=255, blank=True, default="")
    events = ArrayField(models.CharField(max_length=64, choices=EventType.choices))
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    # The circuit breaker: after WEBHOOK_BREAKER_FAILURES failed attempts in a row the
    # endpoint is paused, each pause twice as long as the one before, until one succeeds.
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_pauses = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="No attempts before this (the circuit breaker is open)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """
    One event on its way to one endpoint. Its id is the `Storefleet-Delivery`
    header, the same on every attempt, so receivers can de-duplicate.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (not attempted yet, or a redelivery is queued)"
        FAILED = "failed", "Failed (a retry is scheduled at next_attempt_at)"
        SUCCEEDED = "succeeded", "Succeeded (the endpoint answered 2xx)"
        DEAD = "dead", "Dead (every scheduled attempt failed; redeliver to try again)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(help_text="The outbox event (public schema) this delivery reports.")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The JSON body sent, signed afresh on each attempt.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When it is due (again); null once it succeeded or died."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A re-dispatched event (the outbox is at least once) never makes a second delivery.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhooks_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_log_idx"),
            # What the sweep looks for in every shop: open deliveries by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due_idx",
                condition=models.Q(status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, and what the endpoint answered (or what went wrong)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Null while in flight.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.CharField(
        max_length=1024, blank=True, default="", help_text="The start of the answer."
    )
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_number_once"),
        ]
        indexes = [
            # The attempts in flight, counted against an endpoint's concurrency cap.
            models.Index(
                fields=["started_at"],
                name="webhooks_attempt_open_idx",
                condition=models.Q(duration_ms__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.response_status or self.error[:40]}"
