"""rows_insert(): one INSERT for the hot writes, the same rows the ORM would write."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Customer, Order
from tenants.audit.models import AuditEntry
from tenants.inserts import rows_insert
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_shop
from tests.conftest import ShopContext

pytestmark = pytest.mark.django_db


def test_rows_get_their_ids_defaults_and_timestamps_in_one_statement(shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    before = timezone.now()
    entries = [
        AuditEntry(
            actor_type="system", actor_label="test", action=f"thing.{n}", object_type="thing", after={"n": n}
        )
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        saved = rows_insert(entries)
    statements = [query["sql"] for query in queries.captured_queries if not query["sql"].startswith("SET ")]
    assert len(statements) == 1 and statements[0].startswith('INSERT INTO "audit_auditentry"')
    assert saved == entries and all(entry.pk is not None and not entry._state.adding for entry in saved)
    stored = {entry.pk: entry for entry in AuditEntry.objects.filter(pk__in=[entry.pk for entry in saved])}
    for entry in saved:
        row = stored[entry.pk]
        assert (row.action, row.after, row.before, row.actor_id) == (entry.action, entry.after, None, None)
        assert before <= row.created_at == entry.created_at <= timezone.now()


def test_a_model_with_its_own_uuid_keeps_it(shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    (event,) = rows_insert(
        [OutboxEvent(schema_name="shop_alpha", type="test.happened", payload={"a": [1, "b"]})]
    )
    assert isinstance(event.pk, uuid.UUID)
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert (stored.payload, stored.attempts, stored.dispatched_at) == ({"a": [1, "b"]}, 0, None)


def test_foreign_keys_decimals_json_and_auto_now_are_written_as_the_orm_writes_them(
    shop_a: ShopContext,
) -> None:
    use_shop(shop_a.shop)
    customer = Customer.objects.create(email="ada@example.com", name="Ada")
    paid_at = timezone.now() - timedelta(minutes=5)
    fields = {
        "customer": customer,
        "email": "ada@example.com",
        "currency": "EUR",
        "subtotal": Decimal("19.90"),
        "total": Decimal("19.90"),
        "status": Order.Status.PAID,
        "paid_at": paid_at,
        "shipping_address": {"name": "Ada", "line1": "1 Road", "city": "Berlin"},
        "payment_provider": "test",
        "token_hash": "0" * 64,
    }
    (fast,) = rows_insert([Order(**fields)])
    slow = Order.objects.create(**fields)
    columns = [field.attname for field in Order._meta.concrete_fields if field.attname not in ("id",)]
    written = {order.pk: order for order in Order.objects.filter(pk__in=[fast.pk, slow.pk])}
    differs = {
        name: (getattr(written[fast.pk], name), getattr(written[slow.pk], name))
        for name in columns
        if name not in ("placed_at", "updated_at")
        and getattr(written[fast.pk], name) != getattr(written[slow.pk], name)
    }
    assert differs == {}
    assert written[fast.pk].placed_at == fast.placed_at and written[fast.pk].updated_at == fast.updated_at
    assert written[fast.pk].refunded_amount == Decimal(0)


def test_nothing_to_insert_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert rows_insert([]) == []
    assert queries.captured_queries == []
