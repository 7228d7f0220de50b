"""What webhooks do with the shop's events, in a worker, after they commit."""

from tenants.outbox.events import WEBHOOK_EVENTS
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler
from tenants.webhooks import services


@event_handler(*WEBHOOK_EVENTS)
def deliver_to_webhook_endpoints(events: list[OutboxEvent]) -> None:
    """Make and queue a delivery per event and subscribed endpoint (idempotent per endpoint and event)."""
    services.deliveries_create_for_events(events=events)
