"""
Write events in the caller's transaction and dispatch them to handlers after
commit, in the event's shop. Delivery is at least once: a dispatch lost to a
broker outage or a killed worker is found again by the relay, so handlers must
be idempotent (keyed by the event id).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenants.models import Shop
from tenants.outbox.models import OutboxEvent
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

# An event still undispatched this long after it was written is handed to a worker again.
RELAY_AFTER = timedelta(seconds=30)
RELAY_BATCH = 500


def event_handler(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a function to run (in a worker, in the event's shop) for these event types."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if handler not in _handlers[event_type]:
                _handlers[event_type].append(handler)
        return handler

    return register


def event_record(*, type: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event of the current shop with the current transaction; dispatch it after commit."""
    event = OutboxEvent.objects.create(schema_name=current_schema(), type=type, payload=payload)
    transaction.on_commit(lambda: event_queue(event))
    return event


def event_queue(event: OutboxEvent) -> None:
    """Hand an event to a worker, in its shop's schema."""
    from tenants.outbox.tasks import outbox_event_dispatch

    try:
        outbox_event_dispatch.apply_async(args=[str(event.pk)], headers={"_schema_name": event.schema_name})
    except Exception:
        # The event is committed; the relay hands it over once the broker is back.
        logger.warning("Could not queue dispatch of %s", event, exc_info=True)


def event_dispatch(*, event_id: str) -> bool:
    """Run an event's handlers and mark it dispatched; False if already done or not this shop's."""
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return False
    if event.schema_name != current_schema():
        logger.error("Refusing to dispatch %s in schema %s", event, current_schema())
        return False
    OutboxEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
    for handler in _handlers.get(event.type, []):
        handler(event)
    OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


def events_relay(*, older_than: timedelta = RELAY_AFTER) -> int:
    """Queue again every event left undispatched (lost message, dead worker); return how many."""
    cutoff = timezone.now() - older_than
    stale = list(
        OutboxEvent.objects.filter(
            dispatched_at__isnull=True,
            created_at__lt=cutoff,
            # A deleted shop's events have nowhere to run.
            schema_name__in=Shop.objects.values("schema_name"),
        ).order_by("created_at")[:RELAY_BATCH]
    )
    for event in stale:
        event_queue(event)
    return len(stale)
