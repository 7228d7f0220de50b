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

Each shop's events live in its own schema (the app is in both SHARED_APPS and
TENANT_APPS; the shop's table comes first on its search path), so a shop's
write touches nothing in public: on Citus its transaction stays on the shop's
node. The public table keeps the platform's own events (account e-mails). The
relay learns which shops have events from a Redis set that each commit with
events adds its shop to (in the round trip that sets the wake-up flag), and
`events_sweep` probes every shop's outbox, rarely, to rebuild the set after a
Redis loss. A public "dirty shops" table would be exact, but writing it would
put a public row back into every checkout.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
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
from tenants.schemas import (
    current_schema,
    public_rows_move,
    shop_schemas_with_table,
    use_public,
    use_schema,
)

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
# Shops probed in one statement by the cross-shop scans (relay, sweep, metrics, expiry, reports).
PROBE_CHUNK = 500
# An undispatched event unclaimed since it was written before the cutoff, or claimed before it.
STALE_SQL = "dispatched_at IS NULL AND ((claimed_at IS NULL AND created_at < %s) OR claimed_at < %s)"


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


def _pending_shops_key() -> str:
    """The Redis set of the schemas whose outbox may hold undispatched events (read by the relay)."""
    return f"{settings.OUTBOX_REDIS_NAMESPACE}:pending-shops"


def dispatch_soon(*, schema: str | None = None) -> bool:
    """
    Note the current (or given) shop among those with pending events and wake
    its dispatcher unless a wake-up is already waiting; return whether this call
    queued one.
    """
    schema = schema or current_schema()
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.sadd(_pending_shops_key(), schema)
        pipe.set(_wake_key(schema), 1, nx=True, ex=WAKE_SECONDS)
        if not pipe.execute()[1]:
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
    now = timezone.now()
    claimed = OutboxEvent.objects.raw(
        # The time is a parameter, not now(): the table is a shop's, distributed on Citus.
        f"""UPDATE {table} SET attempts = attempts + 1, claimed_at = %s
            WHERE id IN (
                SELECT id FROM {table}
                WHERE schema_name = %s AND dispatched_at IS NULL
                  AND (claimed_at IS NULL OR claimed_at < %s)
                ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)
            RETURNING *""",
        [now, schema, now - CLAIM_FOR, limit],
    )
    # created_at is stamped per event as it is written (auto_now_add), so it keeps the order
    # events were recorded in; the id only makes a tie (same microsecond) sort the same every run.
    return sorted(claimed, key=lambda event: (event.created_at, event.pk))


def events_relay(*, older_than: timedelta = RELAY_AFTER) -> int:
    """
    Find events left undispatched (a lost wake-up, a dead worker, a failed
    handler) in the public outbox and in the outboxes of the shops in the
    pending set: unclaimed for `older_than` since they were written, or claimed
    that long ago. Release their claims and wake their shops; return how many.
    A shop leaves the set once its outbox has nothing pending.
    """
    leftovers_move()
    cutoff = timezone.now() - older_than
    noted = pending_shops()
    schemas = shop_outboxes(noted)
    # Taken out before the look: a commit from now on puts its shop back. Deleted shops (and
    # schemas without an outbox of their own) stay out.
    _pending_forget(noted)
    try:
        # Two probes of every noted shop's outbox, PROBE_CHUNK shops to a statement; then a visit
        # only to the shops with stale events.
        pending = outbox_shops_matching(where="dispatched_at IS NULL", schemas=schemas)
        stale = outbox_shops_matching(where=STALE_SQL, params=[cutoff, cutoff], schemas=pending)
    except Exception:
        _pending_note(schemas)
        raise
    _pending_note(pending)
    released = _stale_release(schema=PUBLIC_SCHEMA, cutoff=cutoff)
    try:
        for schema in stale:
            use_schema(schema)
            released += _stale_release(schema=schema, cutoff=cutoff)
    finally:
        use_public()
    return released


def _stale_release(*, schema: str, cutoff: Any) -> int:
    """Release the stale events in the connection's schema's outbox and wake their shops."""
    stale = OutboxEvent.objects.filter(
        Q(claimed_at__isnull=True, created_at__lt=cutoff) | Q(claimed_at__lt=cutoff),
        dispatched_at__isnull=True,
    )
    if schema == PUBLIC_SCHEMA:
        # The platform's own events, and those of shops whose schema has no outbox yet (a
        # rolling migration under way); a deleted shop's have nowhere to run.
        stale = stale.filter(
            Q(schema_name__in=Shop.objects.values("schema_name")) | Q(schema_name=PUBLIC_SCHEMA)
        )
    else:
        stale = stale.filter(schema_name=schema)
    found = list(stale.order_by("created_at").values_list("pk", "schema_name")[:RELAY_BATCH])
    if not found:
        return 0
    OutboxEvent.objects.filter(pk__in=[pk for pk, _ in found]).update(claimed_at=None)
    for name in sorted({name for _, name in found}):
        _dispatcher_wake(name)
    return len(found)


def _pending_note(schemas: Sequence[str]) -> None:
    if schemas:
        try:
            redis_client().sadd(_pending_shops_key(), *schemas)
        except RedisError:
            logger.warning("Redis is down: the outbox sweep will find %s shops again", len(schemas))


def _pending_forget(schemas: Sequence[str]) -> None:
    if schemas:
        try:
            redis_client().srem(_pending_shops_key(), *schemas)
        except RedisError:
            logger.warning("Redis is down: %s shops stay in the outbox's pending set", len(schemas))


def events_sweep() -> int:
    """
    Put every shop whose outbox holds undispatched events into the relay's
    pending set (after a Redis loss, or a commit whose after-commit step never
    ran); return how many shops have pending events.
    """
    leftovers_move()
    schemas = outbox_shops_matching(where="dispatched_at IS NULL")
    _pending_note(schemas)
    return len(schemas)


# --- Every shop's outbox at once -----------------------------------------------------------


def _table(schema: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(schema)}.{quote(OutboxEvent._meta.db_table)}"


def shop_outboxes(schemas: Sequence[str] | None = None) -> list[str]:
    """The schemas of shops (these, or every shop) with an outbox of their own (not migrated yet: none)."""
    return shop_schemas_with_table(OutboxEvent._meta.db_table, schemas)


def outbox_shops_matching(
    *, where: str, params: Sequence[Any] = (), schemas: Sequence[str] | None = None
) -> list[str]:
    """
    The schemas of the shops (these, or every shop) whose outbox holds an event
    matching `where` (SQL on the outbox's columns, `%s` for `params`): one
    EXISTS probe of each shop's outbox, PROBE_CHUNK shops to a statement.
    """
    found: list[str] = []
    names = shop_outboxes(schemas)
    with connection.cursor() as cursor:
        for start in range(0, len(names), PROBE_CHUNK):
            chunk = names[start : start + PROBE_CHUNK]
            probes = [
                f"SELECT %s::text WHERE EXISTS "
                f"(SELECT 1 FROM {_table(name)} WHERE schema_name = %s AND ({where}))"
                for name in chunk
            ]
            cursor.execute(
                " UNION ALL ".join(probes), [value for name in chunk for value in (name, name, *params)]
            )
            found.extend(row[0] for row in cursor.fetchall())
    return found


def pending_oldest(schemas: Sequence[str]) -> tuple[Any, int]:
    """The oldest undispatched event's time (None if none) and how many wait, over these schemas' outboxes."""
    oldest, count = None, 0
    names = [PUBLIC_SCHEMA, *shop_outboxes(schemas)] if schemas else [PUBLIC_SCHEMA]
    with connection.cursor() as cursor:
        for start in range(0, len(names), PROBE_CHUNK):
            chunk = names[start : start + PROBE_CHUNK]
            cursor.execute(
                "SELECT min(oldest), coalesce(sum(n), 0) FROM ("
                + " UNION ALL ".join(
                    f"SELECT min(created_at) AS oldest, count(*) AS n FROM {_table(name)} "
                    "WHERE dispatched_at IS NULL"
                    for name in chunk
                )
                + ") pending"
            )
            chunk_oldest, chunk_count = cursor.fetchone()
            count += int(chunk_count)
            if chunk_oldest is not None and (oldest is None or chunk_oldest < oldest):
                oldest = chunk_oldest
    return oldest, count


def pending_shops() -> list[str]:
    """The schemas in the relay's pending set, sorted (none when Redis cannot say)."""
    try:
        members = redis_client().smembers(_pending_shops_key())
    except RedisError:
        logger.warning("Redis is down: the outbox's set of shops with events cannot be read")
        return []
    return sorted(member.decode() if isinstance(member, bytes) else str(member) for member in members)


def leftovers_move(*, schema: str | None = None, model: type[OutboxEvent] = OutboxEvent) -> int:
    """
    Move shops' events out of the public outbox into their shops' own (all of
    one shop's, or of every shop with pending events there that has its
    table), keeping their ids and times; return how many moved. The migration
    that gave shops their outbox runs it per shop (with its own `model`); the
    relay runs it for what a transaction begun before that migration wrote to
    public afterwards.
    """
    if schema is None:
        leftover = (
            OutboxEvent.objects.filter(dispatched_at__isnull=True)
            .exclude(schema_name=PUBLIC_SCHEMA)
            .values_list("schema_name", flat=True)
            .distinct()
            .order_by()
        )
        schemas = shop_outboxes(list(leftover))
    else:
        schemas = [schema]
    moved = 0
    for name in schemas:
        with transaction.atomic():
            moved += public_rows_move(model, name)
    if moved:
        _pending_note(schemas)
    return moved
