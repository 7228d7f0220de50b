"""
Write events in the caller's transaction and dispatch them to handlers after
commit, in the event's shop. Delivery is at least once: a dispatch lost to a
broker outage or a killed worker is found again by the relay, so handlers must
be idempotent (keyed by the event id).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
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
    (event,) = events_record(events=[(type, payload)])
    return event


def events_record(*, events: Sequence[tuple[str, dict[str, Any]]]) -> list[OutboxEvent]:
    """
    Record several events of the current shop with the current transaction (one
    INSERT) and hand them to one worker task after commit, in this order.
    """
    schema = current_schema()
    recorded = OutboxEvent.objects.bulk_create(
        [OutboxEvent(schema_name=schema, type=type, payload=payload) for type, payload in events]
    )
    transaction.on_commit(lambda: events_queue(recorded))
    return recorded


def events_queue(events: Iterable[OutboxEvent]) -> None:
    """Hand events to workers: one task per shop, in the shop's schema, with the events in order."""
    from tenants.outbox.tasks import outbox_events_dispatch

    by_schema: dict[str, list[str]] = defaultdict(list)
    for event in events:
        by_schema[event.schema_name].append(str(event.pk))
    for schema, event_ids in by_schema.items():
        try:
            outbox_events_dispatch.apply_async(args=[event_ids], headers={"_schema_name": schema})
        except Exception:
            # The events are committed; the relay hands them over once the broker is back.
            logger.warning(
                "Could not queue dispatch of %s events of %s", len(event_ids), schema, exc_info=True
            )


def event_dispatch(*, event_id: str) -> bool:
    """Run one event's handlers and mark it dispatched; False if already done or not this shop's."""
    return events_dispatch(event_ids=[event_id]) == 1


def events_dispatch(*, event_ids: Sequence[str]) -> int:
    """
    Run the handlers of the current shop's events that are still undispatched,
    in the order they were recorded, marking each done; return how many ran.
    Events of another shop are refused (logged), as a task never acts outside
    its shop. If a handler raises, the events done so far stay done and the rest
    wait for the retry (the relay's, or the task's).
    """
    schema = current_schema()
    position = {str(event_id): index for index, event_id in enumerate(event_ids)}
    # Count the attempt and load the events in one statement; another shop's are left untouched.
    table = OutboxEvent._meta.db_table
    claimed = OutboxEvent.objects.raw(
        f"UPDATE {table} SET attempts = attempts + 1 "
        "WHERE id = ANY(%s) AND dispatched_at IS NULL AND schema_name = %s RETURNING *",
        [[uuid.UUID(event_id) for event_id in position], schema],
    )
    events = sorted(
        claimed,
        # Events of one transaction may share a timestamp; then the order they were recorded in decides.
        key=lambda event: (event.created_at, position[str(event.pk)]),
    )
    if len(events) < len(position):
        foreign = OutboxEvent.objects.filter(pk__in=list(position), dispatched_at__isnull=True).exclude(
            schema_name=schema
        )
        for event in foreign:
            logger.error("Refusing to dispatch %s in schema %s", event, schema)
    done: list[uuid.UUID] = []
    try:
        for event in events:
            for handler in _handlers.get(event.type, []):
                handler(event)
            done.append(event.pk)
    finally:
        if done:
            OutboxEvent.objects.filter(pk__in=done, dispatched_at__isnull=True).update(
                dispatched_at=timezone.now()
            )
    return len(done)


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
    events_queue(stale)
    return len(stale)
