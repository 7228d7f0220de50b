"""
Write events in the caller's transaction and dispatch them to handlers after
commit, in the event's shop. Delivery is at least once: a dispatch lost to a
broker outage or a killed worker is found again by the relay, so handlers must
be idempotent (keyed by the event id).

Dispatching is per shop and in batches. A commit with events wakes the shop's
dispatcher unless a wake-up is already waiting (one Redis SET NX), and the
dispatcher takes every pending event of the shop, up to BATCH, oldest first.
Under load, one task then carries the events of many orders, and a handler sees
them together: one query for all their orders, one look-up of the webhook
endpoints, one SMTP connection. A wake-up is never lost: the dispatcher clears
the flag before it takes events, so an event committed after the clear sets it
again, and one committed before is among those it takes.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from tenants.inserts import rows_insert
from tenants.keys import redis_client, redis_key
from tenants.models import Shop
from tenants.observability.context import current_request_id
from tenants.observability.tracing import outbox_handler_run, traceparent_current
from tenants.outbox.models import OutboxEvent
from tenants.persist import persist_with_retries
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

# A handler gets the batch's events of its types, oldest first, and must be idempotent per event.
Handler = Callable[[list[OutboxEvent]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

# How many events one dispatch takes; more wait for the next wake-up, queued at once.
BATCH = 200
# A claimed event left undispatched this long (its worker died, or a handler failed)
# may be claimed again; the relay finds it and wakes its shop.
CLAIM_FOR = timedelta(seconds=30)
# An event still undispatched this long after it was written is handed to a worker again.
RELAY_AFTER = timedelta(seconds=30)
RELAY_BATCH = 500
# Events of the public schema (platform accounts' e-mails) run there, with no shop.
PUBLIC_SCHEMA = "public"
# A wake-up flag whose task was lost expires, so the next commit queues a new one.
WAKE_SECONDS = 60


def event_handler(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a function to run (in a worker, in the events' shop) with events of these types."""

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
    """Record events of the current shop in the current transaction (one INSERT); wake its dispatcher."""
    schema = current_schema()
    made_in = {"traceparent": traceparent_current(), "request_id": current_request_id() or ""}
    recorded = rows_insert(
        [OutboxEvent(schema_name=schema, type=type, payload=payload, **made_in) for type, payload in events]
    )
    # robust: a failure to wake is logged, never raised into the answer of a committed change.
    transaction.on_commit(lambda: dispatch_soon(schema=schema), robust=True)
    return recorded


def _wake_key(schema: str) -> str:
    return redis_key(settings.OUTBOX_REDIS_NAMESPACE, "dispatch-pending", schema=schema)


def dispatch_soon(*, schema: str | None = None) -> bool:
    """
    Wake the current (or given) shop's dispatcher unless a wake-up is already
    waiting; return whether this call queued one.
    """
    schema = schema or current_schema()
    try:
        if not redis_client().set(_wake_key(schema), 1, nx=True, ex=WAKE_SECONDS):
            return False
    except RedisError:
        if settings.CELERY_BROKER_URL == settings.REDIS_URL:
            # The broker is that same Redis: queuing would wait out its timeouts too, after a
            # commit whose answer is waiting. The relay wakes the shop once Redis is back.
            logger.warning("Redis is down: the relay will wake the outbox dispatcher of %s", schema)
            return False
        logger.warning("Redis is down: waking the outbox dispatcher of %s without the flag", schema)
    return _dispatcher_wake(schema)


def _dispatcher_wake(schema: str) -> bool:
    from tenants.outbox.tasks import outbox_dispatch

    try:
        delay = settings.OUTBOX_DISPATCH_DELAY_MS / 1000
        outbox_dispatch.apply_async(countdown=delay or None, headers={"_schema_name": schema})
    except Exception:
        # The events are committed; the relay wakes the shop once the broker is back.
        logger.warning("Could not wake the outbox dispatcher of %s", schema, exc_info=True)
        return False
    return True


def events_dispatch(*, limit: int = BATCH) -> int:
    """
    Run the handlers of the current shop's pending events, at most `limit` of
    them, oldest first, and mark them done; return how many are done. Each
    handler gets the events of its types at once. A handler that raises leaves
    its events pending (the relay hands them over again once their claim is
    CLAIM_FOR old; at once, in a new dispatch, when all that failed was the
    database session) and the other handlers still run; its error is raised at
    the end. Only the current shop's events are ever taken, as a task never acts
    outside its shop.
    """
    schema = current_schema()
    try:
        # Cleared before taking events: whatever commits from now on wakes a new dispatch.
        redis_client().delete(_wake_key(schema))
    except RedisError:
        logger.warning("Redis is down: the outbox wake-up flag of %s stays until it expires", schema)
    events = _events_claim(schema=schema, limit=limit)
    by_handler: dict[Handler, list[OutboxEvent]] = {}
    for event in events:
        for handler in _handlers.get(event.type, []):
            by_handler.setdefault(handler, []).append(event)
    failed: set[uuid.UUID] = set()
    errors: list[Exception] = []
    for handler, handled in by_handler.items():
        try:
            outbox_handler_run(handler, handled)
        except Exception as error:
            logger.exception(
                "Outbox handler %s failed for %s events of %s", handler.__qualname__, len(handled), schema
            )
            failed.update(event.pk for event in handled)
            errors.append(error)
    done = [event.pk for event in events if event.pk not in failed]
    if done:
        # The handlers' sends are done: record that even if the session died meanwhile.
        persist_with_retries(
            lambda: OutboxEvent.objects.filter(pk__in=done, dispatched_at__isnull=True).update(
                dispatched_at=timezone.now()
            ),
            what=f"{len(done)} dispatched events of {schema}",
        )
    session_lost = bool(failed) and all(isinstance(e, (OperationalError, InterfaceError)) for e in errors)
    if session_lost:
        # Only the database session was lost (a restart, a terminated backend): hand the
        # events straight back rather than wait for the relay, and dispatch them again.
        persist_with_retries(
            lambda: OutboxEvent.objects.filter(pk__in=failed, dispatched_at__isnull=True).update(
                claimed_at=None
            ),
            what=f"the release of {len(failed)} events of {schema}",
        )
    if len(events) == limit or session_lost:
        dispatch_soon(schema=schema)  # more are waiting: the next batch, in another task
    if errors:
        raise errors[0]
    return len(done)


def _events_claim(*, schema: str, limit: int) -> list[OutboxEvent]:
    """
    Take the shop's oldest pending events that no other worker holds (a claim
    younger than CLAIM_FOR), counting the attempt, in one statement. SKIP LOCKED
    lets two dispatchers of one shop take disjoint batches at once.
    """
    table = OutboxEvent._meta.db_table
    claimed = OutboxEvent.objects.raw(
        f"""UPDATE {table} SET attempts = attempts + 1, claimed_at = now()
            WHERE id IN (
                SELECT id FROM {table}
                WHERE schema_name = %s AND dispatched_at IS NULL
                  AND (claimed_at IS NULL OR claimed_at < now() - %s)
                ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING *""",
        [schema, CLAIM_FOR, limit],
    )
    # created_at is stamped per event as it is written (auto_now_add), so it keeps the order
    # events were recorded in; the id only makes a tie (same microsecond) sort the same every run.
    return sorted(claimed, key=lambda event: (event.created_at, event.pk))


def events_relay(*, older_than: timedelta = RELAY_AFTER) -> int:
    """
    Find events left undispatched (a lost wake-up, a dead worker, a failed
    handler): unclaimed for `older_than` since they were written, or claimed that
    long ago. Release their claims and wake their shops; return how many.
    """
    cutoff = timezone.now() - older_than
    stale = list(
        OutboxEvent.objects.filter(
            Q(claimed_at__isnull=True, created_at__lt=cutoff) | Q(claimed_at__lt=cutoff),
            dispatched_at__isnull=True,
        )
        # A deleted shop's events have nowhere to run; the public schema's (account e-mails) always can.
        .filter(Q(schema_name__in=Shop.objects.values("schema_name")) | Q(schema_name=PUBLIC_SCHEMA))
        .order_by("created_at")
        .values_list("pk", "schema_name")[:RELAY_BATCH]
    )
    if not stale:
        return 0
    OutboxEvent.objects.filter(pk__in=[pk for pk, _ in stale]).update(claimed_at=None)
    for schema in sorted({schema for _, schema in stale}):
        _dispatcher_wake(schema)
    return len(stale)
