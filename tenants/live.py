"""
Live updates: what the admin SPA and the shopper's order page are told as it
happens, over Server-Sent Events (config/live.py serves the streams from the
ASGI process; docs/live-updates.md).

Producers publish to one Redis pub/sub channel per shop (`{schema}:live`): the
outbox handler below, after an order or stock event commits, and the import
worker with its progress. Pub/sub keeps nothing: a client that was away gets
nothing it missed, and reloads what it shows when it reconnects. Each message
is a JSON object with `id`, `type` and `data`; the order page is sent only the
order events of its own order, with its number and status.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from tenants.keys import redis_client, redis_key
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

# What the order page gets from the outbox: the changes of an order's status.
ORDER_PAGE_EVENTS = (
    EventType.ORDER_PAID,
    EventType.ORDER_PARTIALLY_FULFILLED,
    EventType.ORDER_FULFILLED,
    EventType.ORDER_CANCELLED,
    EventType.ORDER_REFUNDED,
)
# What the admin's channel carries: those, new and expired orders, and low stock.
ADMIN_EVENTS = (EventType.ORDER_CREATED, *ORDER_PAGE_EVENTS, EventType.ORDER_EXPIRED, EventType.INVENTORY_LOW)
IMPORT_PROGRESS = "import.progress"
EXPORT_PROGRESS = "export.progress"


def live_channel(schema: str | None = None) -> str:
    """The shop's Redis pub/sub channel of live updates."""
    return redis_key(settings.LIVE_REDIS_NAMESPACE, schema=schema)


def live_publish(
    *, type: str, data: dict[str, Any], id: str | None = None, schema: str | None = None
) -> None:
    """Tell the shop's open streams; a Redis outage loses the message (clients resync), never raises."""
    message = json.dumps({"id": id or uuid.uuid4().hex, "type": type, "data": data}, default=str)
    try:
        redis_client().publish(live_channel(schema or current_schema()), message)
    except RedisError:
        logger.warning("Redis is down: a live %s update of %s is lost", type, schema or current_schema())


def order_page_view(message: dict[str, Any], *, number: int) -> dict[str, Any] | None:
    """The message as the shopper's page of order `number` may see it, or None if it is not for that page."""
    data = message.get("data") or {}
    if message.get("type") not in ORDER_PAGE_EVENTS or data.get("number") != number:
        return None
    return {
        "id": message["id"],
        "type": message["type"],
        "data": {"number": number, "status": data.get("status")},
    }


def _admin_data(event: OutboxEvent) -> dict[str, Any]:
    """What the admin is shown: the event's payload without the actor's label."""
    return {name: value for name, value in event.payload.items() if name != "actor"}


@event_handler(*ADMIN_EVENTS)
def publish_live_updates(events: list[OutboxEvent]) -> None:
    """Push order and low-stock events to the shop's open streams (at least once: ids tell repeats)."""
    for event in events:
        live_publish(type=event.type, data=_admin_data(event), id=str(event.pk), schema=event.schema_name)
