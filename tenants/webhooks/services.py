"""
Webhook writes: endpoints (each change audited), deliveries made from outbox
events, attempts with retries and dead-lettering, redelivery, and the sweep
that sends what fell due.

A delivery is attempted by a worker of the webhook queue: the attempt claims the
delivery row (locked, and leased for longer than the timeout so a second worker
skips it), POSTs outside any transaction, then records the answer (on a fresh
database session if the one it held died meanwhile: see tenants.persist) and
either finishes the delivery or schedules the next attempt. Retries follow
WEBHOOK_RETRY_DELAYS (exponential, about a day in all) with jitter; after the
last one the delivery is dead and waits for a manual redelivery. Short waits are
also queued with a countdown; every wait is caught by the beat sweep
(`deliveries_due_queue`), so a lost message or a worker killed mid-POST only
delays an attempt, and a re-sent delivery keeps its `Storefleet-Delivery` id.

One endpoint's trouble stays its own: at most WEBHOOK_ENDPOINT_CONCURRENCY of
its attempts are in flight at once (the others wait a timeout's length), and a
circuit breaker pauses an endpoint that failed WEBHOOK_BREAKER_FAILURES times in
a row, with a doubling pause; its deliveries wait for the pause to end, and one
attempt then probes it.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tenants.audit.services import Actor, audit_record
from tenants.outbox.events import WEBHOOK_EVENTS
from tenants.outbox.models import OutboxEvent
from tenants.persist import persist_with_retries
from tenants.schemas import current_schema
from tenants.webhooks import selectors, signing, ssrf, transport
from tenants.webhooks.errors import DeliveryInFlight, EndpointLimitReached
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

UNSET: Any = object()
OBJECT_TYPE = "webhook_endpoint"
# Each retry waits its WEBHOOK_RETRY_DELAYS entry, give or take this fraction, so
# deliveries that failed together (an endpoint down) do not all return together.
RETRY_JITTER = 0.1
# Waits up to this long are also queued as a countdown task; longer ones are left
# to the sweep alone (Redis hands a countdown task held past its visibility
# timeout, an hour by default, to another worker again).
COUNTDOWN_LIMIT_SECONDS = 15 * 60
INTERRUPTED = "Interrupted: the worker stopped before the answer was recorded."
NOT_SENT = "Not sent: the database session was lost while the attempt was being claimed."
# What the sweep queued is not queued again for this long (unless its task ran and
# rescheduled it). Longer, and a lost task waits longer; shorter, and a backlog that
# takes the workers longer to get through is queued twice (the copy finds nothing to do).
SWEEP_HOLD = timedelta(minutes=2)
# An attempt that finds its endpoint at its concurrency cap tries again this much later.
BUSY_RETRY = timedelta(seconds=1)
# The most deliveries one sweep queues; the next sweep, a minute later, goes on.
SWEEP_MAX = 20_000
Status = WebhookDelivery.Status


def attempts_max() -> int:
    """The first attempt and one retry per WEBHOOK_RETRY_DELAYS entry."""
    return len(settings.WEBHOOK_RETRY_DELAYS) + 1


def attempt_lease() -> timedelta:
    """
    How long an attempt holds its delivery: the POST's time budget, the time its
    answer may take to record (OUTCOME_RECORD_SECONDS) and a margin. A delivery
    whose worker died mid-attempt is attempted again once this has passed.
    """
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + settings.OUTCOME_RECORD_SECONDS + 10)


def retry_delay(*, attempt_number: int) -> float | None:
    """Seconds to wait after failed attempt `attempt_number`, jittered; None after the last attempt."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    if attempt_number > len(delays):
        return None
    return float(delays[attempt_number - 1]) * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)


# --- Endpoints ----------------------------------------------------------------------


def endpoint_snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint for the audit log (never its secret)."""
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "is_active": endpoint.is_active,
    }


def _events(events: Iterable[str]) -> list[str]:
    """Known event types, each once, in the order given."""
    unique = list(dict.fromkeys(events))
    unknown = [event for event in unique if event not in WEBHOOK_EVENTS]
    if unknown:  # the API validates first; this guards other callers
        raise ValueError(f"Unknown event types: {', '.join(unknown)}")
    return unique


def endpoint_create(
    *, actor: Actor, url: str, events: Iterable[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint with a new secret (the caller shows `endpoint.secret` once)."""
    ssrf.url_check(url)
    limit = settings.WEBHOOK_MAX_ENDPOINTS
    with transaction.atomic():
        if WebhookEndpoint.objects.count() >= limit:
            raise EndpointLimitReached(f"A shop can have at most {limit} webhook endpoints.")
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            events=_events(events),
            description=description,
            is_active=is_active,
            secret=signing.secret_generate(),
        )
        audit_record(
            actor=actor,
            action="webhook.created",
            object_type=OBJECT_TYPE,
            object_id=endpoint.pk,
            after=endpoint_snapshot(endpoint),
        )
    return endpoint


def endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    url: str = UNSET,
    events: Iterable[str] = UNSET,
    description: str = UNSET,
    is_active: bool = UNSET,
) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or whether it receives deliveries."""
    before = endpoint_snapshot(endpoint)
    changes: dict[str, Any] = {}
    if url is not UNSET and url != endpoint.url:
        ssrf.url_check(url)
        changes["url"] = url
    if events is not UNSET and _events(events) != list(endpoint.events):
        changes["events"] = _events(events)
    if description is not UNSET and description != endpoint.description:
        changes["description"] = description
    if is_active is not UNSET and is_active != endpoint.is_active:
        changes["is_active"] = is_active
    if not changes:
        return endpoint
    with transaction.atomic():
        for name, value in changes.items():
            setattr(endpoint, name, value)
        fields = [*changes, "updated_at"]
        if "url" in changes or changes.get("is_active"):
            # A new address (or a merchant switching it back on) deserves a fresh start.
            endpoint.consecutive_failures = endpoint.consecutive_pauses = 0
            endpoint.paused_until = None
            fields += ["consecutive_failures", "consecutive_pauses", "paused_until"]
        endpoint.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="webhook.updated",
            object_type=OBJECT_TYPE,
            object_id=endpoint.pk,
            before=before,
            after=endpoint_snapshot(endpoint),
        )
    return endpoint


def endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log; deliveries still queued are dropped."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="webhook.deleted",
            object_type=OBJECT_TYPE,
            object_id=endpoint.pk,
            before=endpoint_snapshot(endpoint),
        )
        endpoint.delete()


def endpoint_secret_rotate(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """
    Give the endpoint a new secret at once (the caller shows it once). Deliveries
    the receiver refuses until it has the new secret are retried as usual.
    """
    with transaction.atomic():
        endpoint.secret = signing.secret_generate()
        endpoint.save(update_fields=["secret", "updated_at"])
        audit_record(
            actor=actor, action="webhook.secret_rotated", object_type=OBJECT_TYPE, object_id=endpoint.pk
        )
    return endpoint


# --- Deliveries ---------------------------------------------------------------------


def delivery_body(event: OutboxEvent) -> dict[str, Any]:
    """The JSON body receivers get for an event."""
    return {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }


def deliveries_create_for_events(*, events: Sequence[OutboxEvent]) -> list[str]:
    """
    Make one delivery per event and active endpoint subscribed to it, and queue
    the ones never attempted; return their ids. Idempotent: the outbox may
    dispatch an event again, and a second run adds nothing (one delivery per
    endpoint and event), though it queues again what is still waiting for its
    first attempt.
    """
    subscribed = selectors.endpoints_subscribed(event_types=(event.type for event in events))
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=event.pk,
            event_type=event.type,
            payload=delivery_body(event),
            next_attempt_at=now,
        )
        for event in events
        for endpoint_id in subscribed.get(event.type, [])
    ]
    if not deliveries:
        return []
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        waiting = [
            str(pk)
            for pk in WebhookDelivery.objects.filter(
                event_id__in={delivery.event_id for delivery in deliveries}, status=Status.PENDING, attempts=0
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        ]
        transaction.on_commit(lambda: deliveries_queue(waiting))
    return waiting


def deliveries_queue(
    delivery_ids: Iterable[str],
    *,
    countdown: float | None = None,
    schema: str | None = None,
    queued_until: datetime | None = None,
) -> list[str]:
    """
    Hand deliveries of the current (or given) shop to workers; return the ids
    that could not be queued (the broker is down), which the sweep makes up for.
    """
    from tenants.webhooks.tasks import webhook_delivery_attempt

    headers = {"_schema_name": schema or current_schema()}
    args: list[Any] = [] if queued_until is None else [queued_until.isoformat()]
    not_queued = []
    for delivery_id in delivery_ids:
        try:
            webhook_delivery_attempt.apply_async(
                args=[delivery_id, *args], countdown=countdown, headers=headers
            )
        except Exception:
            logger.warning("Could not queue webhook delivery %s; the sweep will", delivery_id, exc_info=True)
            not_queued.append(delivery_id)
    return not_queued


def _defer(delivery: WebhookDelivery, *, until: datetime) -> None:
    """Move a delivery's turn to `until` without counting an attempt, and queue it for then."""
    delivery.next_attempt_at = until
    delivery.save(update_fields=["next_attempt_at", "updated_at"])
    wait = (until - timezone.now()).total_seconds()
    if wait <= COUNTDOWN_LIMIT_SECONDS:
        schema = current_schema()
        # A moment's margin: the task must not arrive before the delivery is due.
        transaction.on_commit(
            lambda: deliveries_queue([str(delivery.pk)], countdown=max(wait, 0) + 0.2, schema=schema)
        )


def endpoint_in_flight(*, endpoint_id: int, now: datetime) -> int:
    """How many attempts to an endpoint are in flight (started within a lease and not answered)."""
    return WebhookAttempt.objects.filter(
        delivery__endpoint_id=endpoint_id, duration_ms__isnull=True, started_at__gt=now - attempt_lease()
    ).count()


def breaker_pause(*, consecutive_pauses: int) -> timedelta:
    """How long the breaker's next pause lasts, after `consecutive_pauses` pauses in a row."""
    seconds = settings.WEBHOOK_BREAKER_PAUSE_SECONDS * 2 ** min(consecutive_pauses, 20)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BREAKER_PAUSE_MAX_SECONDS))


def _claim(*, delivery_id: str, due: Q, now: datetime) -> tuple[WebhookDelivery, WebhookAttempt] | None:
    """Claim a due delivery for one attempt starting `now`, within its endpoint's limits; None if not now."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(due, pk=delivery_id, status__in=selectors.OPEN_STATUSES)
            .first()
        )
        if delivery is None:
            return None
        # Locked for the count below: two workers cannot both take an endpoint's last free slot.
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.endpoint = endpoint
        if endpoint.paused_until is not None and endpoint.paused_until > now:
            _defer(delivery, until=endpoint.paused_until)
            return None
        # Once the breaker has tripped, a single attempt probes the endpoint.
        tripped = endpoint.consecutive_failures >= settings.WEBHOOK_BREAKER_FAILURES
        cap = 1 if tripped else settings.WEBHOOK_ENDPOINT_CONCURRENCY
        if endpoint_in_flight(endpoint_id=endpoint.pk, now=now) >= cap:
            # A healthy endpoint frees a slot in a moment; a hanging one is soon paused.
            _defer(delivery, until=now + BUSY_RETRY)
            return None
        # An attempt still open here was cut off by a dead worker (its lease ran out).
        WebhookAttempt.objects.filter(delivery=delivery, duration_ms__isnull=True).update(error=INTERRUPTED)
        delivery.attempts += 1
        delivery.next_attempt_at = now + attempt_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    return delivery, attempt


def _claim_release(*, delivery_id: str, started_at: datetime) -> None:
    """Undo a claim whose commit went unconfirmed: its attempt never sent anything; due again now."""
    with transaction.atomic():
        closed = WebhookAttempt.objects.filter(
            delivery_id=uuid.UUID(delivery_id), started_at=started_at, duration_ms__isnull=True
        ).update(duration_ms=0, error=NOT_SENT)
        if closed:
            WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())


def delivery_attempt(*, delivery_id: str, queued_until: datetime | None = None) -> WebhookAttempt | None:
    """
    Make the next attempt of a delivery if it is due and no other worker holds
    it; record the answer; schedule a retry or dead-letter it. Return the
    attempt, or None if there was nothing to do (not due, held elsewhere, or
    deferred: the endpoint is paused or at its concurrency cap). `queued_until`
    is the sweep's mark: the delivery is due if it still carries it.
    """
    now = timezone.now()
    due = Q(next_attempt_at__lte=now)
    if queued_until is not None:
        due |= Q(next_attempt_at=queued_until)
    try:
        claimed = _claim(delivery_id=delivery_id, due=due, now=now)
    except DatabaseError:
        # The session died: if the claim committed nonetheless, nothing was sent yet; hand it back.
        persist_with_retries(
            lambda: _claim_release(delivery_id=delivery_id, started_at=now),
            what=f"the release of webhook delivery {delivery_id}",
        )
        raise
    if claimed is None:
        return None
    delivery, attempt = claimed
    endpoint = delivery.endpoint

    answer = _send(delivery)

    finished = timezone.now()
    delay = None if answer.ok else retry_delay(attempt_number=attempt.number)
    if answer.ok:
        status, next_attempt_at = Status.SUCCEEDED, None
    elif delay is None:
        status, next_attempt_at = Status.DEAD, None
    else:
        status, next_attempt_at = Status.FAILED, finished + timedelta(seconds=delay)
    outcome = {
        "duration_ms": answer.duration_ms,
        "response_status": answer.status,
        "response_body": answer.body,
        "error": answer.error,
    }
    schema = current_schema()

    def record() -> datetime | None:
        with transaction.atomic():
            paused_until = _breaker_record(endpoint_id=endpoint.pk, ok=answer.ok, finished=finished)
            logged = dict(outcome)
            if paused_until is not None:
                logged["error"] = _breaker_note(answer.error, paused_until)[:500]
            # Updates by filter: the endpoint (and with it this log) may have been deleted meanwhile.
            WebhookAttempt.objects.filter(pk=attempt.pk).update(**logged)
            # Unless a later attempt claimed it meanwhile (this one outlived its lease).
            WebhookDelivery.objects.filter(pk=delivery.pk, attempts=attempt.number).update(
                status=status, next_attempt_at=next_attempt_at, updated_at=finished
            )
            if delay is not None and delay <= COUNTDOWN_LIMIT_SECONDS:
                countdown = delay
                # A second's margin: the task must not arrive before the delivery is due.
                transaction.on_commit(
                    lambda: deliveries_queue([str(delivery.pk)], countdown=countdown + 1, schema=schema)
                )
            return paused_until

    # The POST is done: its answer is recorded before anything may send this delivery again.
    paused_until = persist_with_retries(
        record, what=f"webhook delivery {delivery.pk} attempt {attempt.number}"
    )
    for name, value in outcome.items():
        setattr(attempt, name, value)
    if paused_until is not None:
        attempt.error = _breaker_note(answer.error, paused_until)[:500]
    if not answer.ok:
        logger.info(
            "Webhook delivery %s attempt %s failed (%s): %s",
            delivery.pk,
            attempt.number,
            answer.status,
            answer.error or answer.body[:100],
        )
    if paused_until is not None:
        logger.warning("Webhook endpoint %s of %s paused until %s", endpoint.pk, schema, paused_until)
    return attempt


def _breaker_record(*, endpoint_id: int, ok: bool, finished: datetime) -> datetime | None:
    """Count an attempt's outcome against its endpoint; return the pause's end if this one opened it."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        return None
    if ok:
        if endpoint.consecutive_failures or endpoint.paused_until:
            endpoint.consecutive_failures = endpoint.consecutive_pauses = 0
            endpoint.paused_until = None
            endpoint.save(update_fields=["consecutive_failures", "consecutive_pauses", "paused_until"])
        return None
    endpoint.consecutive_failures += 1
    fields = ["consecutive_failures"]
    paused_until = None
    already_paused = endpoint.paused_until is not None and endpoint.paused_until > finished
    if endpoint.consecutive_failures >= settings.WEBHOOK_BREAKER_FAILURES and not already_paused:
        paused_until = finished + breaker_pause(consecutive_pauses=endpoint.consecutive_pauses)
        endpoint.paused_until = paused_until
        endpoint.consecutive_pauses += 1
        fields += ["paused_until", "consecutive_pauses"]
    endpoint.save(update_fields=fields)
    return paused_until


def _breaker_note(error: str, paused_until: datetime) -> str:
    note = f"The endpoint is paused until {paused_until.isoformat(timespec='seconds')} after this failure."
    return f"{error} {note}".strip()


def _send(delivery: WebhookDelivery) -> transport.Answer:
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return transport.Answer(status=None, body="", error="The endpoint is disabled.", duration_ms=0)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signing.sign(secret=endpoint.secret, body=body),
        signing.EVENT_HEADER: delivery.event_type,
        signing.DELIVERY_HEADER: str(delivery.pk),
    }
    return transport.post(
        url=endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
    )


def delivery_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """
    Queue one more attempt of a delivery now, whatever its status. If it fails,
    the delivery carries on with its retry schedule where it left off (one that
    had used up its attempts is dead again).
    """
    now = timezone.now()
    in_flight = WebhookAttempt.objects.filter(
        delivery=delivery, duration_ms__isnull=True, started_at__gt=now - attempt_lease()
    )
    if in_flight.exists():
        raise DeliveryInFlight("An attempt of this delivery is in progress; redeliver once it has finished.")
    with transaction.atomic():
        delivery.status = Status.PENDING
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.redelivered",
            object_type=OBJECT_TYPE,
            object_id=delivery.endpoint_id,
            after={"delivery_id": str(delivery.pk), "event_type": delivery.event_type},
        )
        transaction.on_commit(lambda: deliveries_queue([str(delivery.pk)]))
    return delivery


def deliveries_due_queue(*, per_shop: int = 100, limit: int = SWEEP_MAX) -> int:
    """
    Queue every shop's deliveries that are due (from the public schema, by
    beat) until none is left or `limit` are queued; return how many. Each round
    takes up to `per_shop` of every shop's, oldest first, and queues them
    interleaved across shops, so a shop with a backlog of thousands does not
    hold back the others. Queued deliveries carry the sweep's mark
    (`next_attempt_at` = now + SWEEP_HOLD), so the next round, and the next
    sweep, skip them unless their task was lost.
    """
    queued = 0
    while queued < limit:
        now = timezone.now()
        due = selectors.deliveries_due_by_schema(now=now, per_shop=min(per_shop, limit - queued))
        if not due:
            break
        queued_until = now + SWEEP_HOLD
        # Only what is still due gets the mark and a task: a delivery claimed since the read
        # above carries its attempt's lease, which the mark must not replace.
        marked = {
            schema: _deliveries_mark_queued(
                schema=schema, delivery_ids=delivery_ids, queued_until=queued_until, marked_if_at_most=now
            )
            for schema, delivery_ids in due.items()
        }
        # In the read's order (oldest first): RETURNING keeps none.
        due = {schema: [i for i in due[schema] if i in set(ids)] for schema, ids in marked.items() if ids}
        if not due:
            continue
        not_queued: dict[str, list[str]] = defaultdict(list)
        for position in range(max(len(ids) for ids in due.values())):
            for schema, delivery_ids in due.items():
                if position < len(delivery_ids):
                    lost = deliveries_queue(
                        [delivery_ids[position]], schema=schema, queued_until=queued_until
                    )
                    if lost:
                        not_queued[schema] += lost
        queued += sum(len(ids) for ids in due.values()) - sum(len(ids) for ids in not_queued.values())
        if not_queued:
            # The broker is down: what did not go is due again at once, for the next sweep.
            for schema, delivery_ids in not_queued.items():
                _deliveries_mark_queued(
                    schema=schema, delivery_ids=delivery_ids, queued_until=now, marked_if_equal=queued_until
                )
            break
    return queued


def _deliveries_mark_queued(
    *,
    schema: str,
    delivery_ids: list[str],
    queued_until: datetime,
    marked_if_at_most: datetime | None = None,
    marked_if_equal: datetime | None = None,
) -> list[str]:
    """
    Set `next_attempt_at` to `queued_until` on those deliveries whose own is still at
    most `marked_if_at_most` (due) or equal to `marked_if_equal` (our mark); return
    their ids. Another worker's claim meanwhile moved its delivery's past both.
    """
    quote = connection.ops.quote_name
    value: datetime | None
    if marked_if_at_most is not None:
        condition, value = "next_attempt_at <= %s", marked_if_at_most
    else:
        condition, value = "next_attempt_at = %s", marked_if_equal
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(schema)}.{quote(WebhookDelivery._meta.db_table)} SET next_attempt_at = %s"
            f" WHERE id = ANY(%s::uuid[]) AND {condition} RETURNING id",
            [queued_until, delivery_ids, value],
        )
        return [str(row[0]) for row in cursor.fetchall()]
