"""
Write events in the caller's transaction and dispatch them to local handlers
after commit. Handlers must be idempotent: an event can be dispatched again
(a worker died, a sweep found it undispatched).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.outbox.models import OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def event_handler(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a function to run (in a worker, in the event's shop) for these event types."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if handler not in _handlers[event_type]:
                _handlers[event_type].append(handler)
        return handler

    return register


def event_record(*, type: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event with the current transaction and queue its dispatch for after commit."""
    event = OutboxEvent.objects.create(type=type, payload=payload)
    transaction.on_commit(lambda: _queue_dispatch(event))
    return event


def _queue_dispatch(event: OutboxEvent) -> None:
    from tenants.outbox.tasks import outbox_event_dispatch

    try:
        outbox_event_dispatch.delay(str(event.id))
    except Exception:
        # The event is committed; a sweep dispatches what the broker missed.
        logger.warning("Could not queue dispatch of %s", event, exc_info=True)


def event_dispatch(*, event_id: str) -> bool:
    """Run the handlers of one event and mark it dispatched; False if there was nothing to do."""
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None:
        return False
    for handler in _handlers.get(event.type, []):
        handler(event)
    OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True
