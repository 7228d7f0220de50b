"""
The outbox: each state change writes its event in the same transaction, so an
event exists exactly when the change committed. Workers dispatch it afterwards,
in the event's own shop schema.
"""

import uuid

from django.db import models
from django.db.models.fields.json import KeyTextTransform

from tenants.outbox.events import EventType


class OutboxEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    schema_name = models.CharField(max_length=63, help_text="The shop the event belongs to.")
    type = models.CharField(max_length=64, help_text="e.g. product.updated, order.paid, inventory.low")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # When a worker last took the event; another worker leaves it alone until the
    # claim is this old (services.CLAIM_FOR) or the relay releases it.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Where the event was made: the W3C traceparent of the span that recorded it ("" when not
    # tracing) and the request id of the work in hand; with tracing on, its handlers run in
    # that trace and with that id (tenants.observability.tracing.outbox_handler_run).
    traceparent = models.CharField(max_length=55, blank=True, default="", db_default="")
    request_id = models.CharField(max_length=128, blank=True, default="", db_default="")

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The shop's dispatcher takes its pending events oldest first; the set is small.
            models.Index(
                fields=["schema_name", "created_at"],
                name="outbox_shop_pending_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
            models.Index(fields=["schema_name", "created_at"], name="outbox_schema_idx"),
            # The shops with unpaid orders falling due (orders.expiry): an order placed unpaid
            # says when it expires in its order.created event, as a fixed-width UTC text.
            models.Index(
                KeyTextTransform("expires_at", "payload"),
                name="outbox_order_expiry_idx",
                condition=models.Q(type=EventType.ORDER_CREATED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.type} {self.id}"
