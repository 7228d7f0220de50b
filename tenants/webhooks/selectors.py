"""Webhook reads: the Admin API's loaders and lists, and the sweep's look across shops."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Prefetch, QuerySet

from tenants.models import Shop
from tenants.webhooks.errors import WebhookNotFound
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

OPEN_STATUSES = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED)
# Shops checked per SQL statement by the sweep (one UNION ALL branch each).
SWEEP_SCHEMAS_PER_QUERY = 200


def endpoints_for_admin() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("-id")


def access_endpoint_by_id(*, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookNotFound("No webhook endpoint with that id in this shop.")
    return endpoint


def deliveries_for_endpoint(
    *, endpoint: WebhookEndpoint, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def access_delivery_by_id(*, endpoint: WebhookEndpoint, delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = deliveries_for_endpoint(endpoint=endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise WebhookNotFound("No delivery with that id for this webhook endpoint.")
    return delivery


def endpoints_subscribed(*, event_types: Iterable[str]) -> dict[str, list[int]]:
    """{event type: ids of the active endpoints subscribed to it}, for these types, in one query."""
    types = sorted(set(event_types))
    subscribed: dict[str, list[int]] = defaultdict(list)
    rows = WebhookEndpoint.objects.filter(is_active=True, events__overlap=types).order_by("pk")
    for endpoint_id, events in rows.values_list("pk", "events"):
        for event_type in types:
            if event_type in events:
                subscribed[event_type].append(endpoint_id)
    return subscribed


def deliveries_due_by_schema(*, now: datetime, per_shop: int) -> dict[str, list[str]]:
    """
    Return {shop schema: ids of its deliveries due by `now`, oldest first, at
    most `per_shop`}, for every shop, from the public schema.

    Deliveries live in each shop's schema; rather than switching to thousands
    of schemas, one statement probes a couple of hundred shops' due-index at a
    time. Only schemas that already have the table are probed (a shop not yet
    migrated is skipped until it is).
    """
    table = WebhookDelivery._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.schema_name FROM {quote(Shop._meta.db_table)} s
            JOIN pg_namespace n ON n.nspname = s.schema_name
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = %s AND c.relkind IN ('r', 'p')
            ORDER BY s.schema_name
            """,
            [table],
        )
        schemas = [row[0] for row in cursor.fetchall()]
        due: dict[str, list[str]] = defaultdict(list)
        statuses = [str(status) for status in OPEN_STATUSES]
        for start in range(0, len(schemas), SWEEP_SCHEMAS_PER_QUERY):
            batch = schemas[start : start + SWEEP_SCHEMAS_PER_QUERY]
            branches = [
                f"(SELECT %s::text, id FROM {quote(schema)}.{quote(table)}"
                " WHERE status IN (%s, %s) AND next_attempt_at <= %s ORDER BY next_attempt_at LIMIT %s)"
                for schema in batch
            ]
            params: list[Any] = []
            for schema in batch:
                params += [schema, *statuses, now, per_shop]
            cursor.execute(" UNION ALL ".join(branches), params)
            for schema, delivery_id in cursor.fetchall():
                due[schema].append(str(delivery_id))
    return dict(due)
