"""
Webhook writes: endpoints (each change audited), deliveries made from outbox
events, attempts with retries and dead-lettering, redelivery, and the sweep
that sends what fell due.

A delivery is attempted by a worker: the attempt claims the delivery row
(locked, and leased for longer than the timeout so a second worker skips it),
POSTs outside any transaction, then records the answer and either finishes the
delivery or schedules the next attempt. Retries follow WEBHOOK_RETRY_DELAYS
(exponential, about a day in all) with jitter; after the last one the delivery
is dead and waits for a manual redelivery. Short waits are also queued with a
countdown; every wait is caught by the beat sweep (`deliveries_due_queue`), so
a lost message or a worker killed mid-POST only delays an attempt.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenants.audit.services import Actor, audit_record
from tenants.outbox.models import OutboxEvent
from tenants.schemas import current_schema
from tenants.webhooks import selectors, signing, ssrf, transport
from tenants.webhooks.errors import DeliveryInFlight, EndpointLimitReached
from tenants.webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint

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
Status = WebhookDelivery.Status


def attempts_max() -> int:
    """The first attempt and one retry per WEBHOOK_RETRY_DELAYS entry."""
    return len(settings.WEBHOOK_RETRY_DELAYS) + 1


def attempt_lease() -> timedelta:
    """How long an attempt holds its delivery: the POST's timeout and a margin for the bookkeeping."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


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
    unknown = [event for event in unique if event not in EventType.values]
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
        endpoint.save(update_fields=[*changes, "updated_at"])
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
    delivery_ids: Iterable[str], *, countdown: float | None = None, schema: str | None = None
) -> None:
    """Hand deliveries of the current (or given) shop to workers; the sweep makes up for a lost one."""
    from tenants.webhooks.tasks import webhook_delivery_attempt

    headers = {"_schema_name": schema or current_schema()}
    for delivery_id in delivery_ids:
        try:
            webhook_delivery_attempt.apply_async(args=[delivery_id], countdown=countdown, headers=headers)
        except Exception:
            logger.warning("Could not queue webhook delivery %s; the sweep will", delivery_id, exc_info=True)


def delivery_attempt(*, delivery_id: str) -> WebhookAttempt | None:
    """
    Make the next attempt of a delivery if it is due and no other worker holds
    it; record the answer; schedule a retry or dead-letter it. Return the
    attempt, or None if there was nothing to do.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status__in=selectors.OPEN_STATUSES, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        # An attempt still open here was cut off by a dead worker (its lease ran out).
        WebhookAttempt.objects.filter(delivery=delivery, duration_ms__isnull=True).update(error=INTERRUPTED)
        delivery.attempts += 1
        delivery.next_attempt_at = now + attempt_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)

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
    for name, value in outcome.items():
        setattr(attempt, name, value)
    with transaction.atomic():
        # Updates by filter: the endpoint (and with it this log) may have been deleted meanwhile.
        WebhookAttempt.objects.filter(pk=attempt.pk).update(**outcome)
        # Unless a later attempt claimed it meanwhile (this one outlived its lease).
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=attempt.number).update(
            status=status, next_attempt_at=next_attempt_at, updated_at=finished
        )
        if delay is not None and delay <= COUNTDOWN_LIMIT_SECONDS:
            schema = current_schema()
            # A second's margin: the task must not arrive before the delivery is due.
            transaction.on_commit(
                lambda: deliveries_queue([str(delivery.pk)], countdown=delay + 1, schema=schema)
            )
    if not answer.ok:
        logger.info(
            "Webhook delivery %s attempt %s failed (%s): %s",
            delivery.pk,
            attempt.number,
            answer.status,
            answer.error or answer.body[:100],
        )
    return attempt


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


def deliveries_due_queue(*, per_shop: int = 100) -> int:
    """Queue every shop's deliveries that are due (from the public schema, by beat); return how many."""
    due = selectors.deliveries_due_by_schema(now=timezone.now(), per_shop=per_shop)
    for schema, delivery_ids in due.items():
        deliveries_queue(delivery_ids, schema=schema)
    return sum(len(ids) for ids in due.values())
