"""
Traces across processes: one order's trace, seen by the SDK's in-memory exporter,
runs from the checkout request through its statements, the outbox (the event
row carries the request's traceparent) and a real Celery worker (in a thread) to
the e-mail and the webhook task; every span carries the shop's schema and the
request id. Off (the default), nothing is patched and the outbox rows say so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction

from tenants.audit.services import Actor
from tenants.observability import tracing
from tenants.observability.context import request_id_var
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_record
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services as webhooks
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.orders.helpers import cart_with, checkout, sellable_product
from tests.webhooks.helpers import Receiver

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="session")
def _memory_exporter() -> Any:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracing.tracer_provider_set(service="storefleet-tests", processors=[SimpleSpanProcessor(exporter)])
    return exporter


@pytest.fixture
def spans(_memory_exporter: Any, django_db_blocker: Any) -> Iterator[Any]:
    """Tracing on, spans kept in memory; connections made from now on are traced."""
    tracing.tracing_instrument()
    with django_db_blocker.unblock():
        connection.close()
    _memory_exporter.clear()
    try:
        yield _memory_exporter
    finally:
        tracing.tracing_uninstrument()
        with django_db_blocker.unblock():
            connection.close()


def _wait_for(found: Any, what: str) -> None:
    waited = threading.Event()
    for _ in range(200):
        if found():
            return
        waited.wait(0.1)
    raise AssertionError(f"never saw {what}")


def test_one_orders_trace_runs_from_the_request_through_the_outbox_to_the_email_and_webhook_tasks(
    test_database, committed_shop: ShopContext, django_db_blocker, settings, spans, worker, api
) -> None:
    ctx = committed_shop
    schema = ctx.shop.schema_name
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with django_db_blocker.unblock(), Receiver().running() as receiver:
        try:
            use_shop(ctx.shop)
            webhooks.endpoint_create(actor=Actor.system(), url=receiver.url, events=["order.created"])
            use_public()
            variant = sellable_product(AdminClient(api, ctx), stock=5)["variants"][0]["id"]
            cart = cart_with(api, ctx, variant)
            spans.clear()
            mail.outbox.clear()

            placed = checkout(api, ctx, cart)
            assert placed.status_code == 201, placed.content
            request_id = placed["X-Request-ID"]
            number = placed.json()["number"]

            def finished() -> list[Any]:
                names = {span.name for span in spans.get_finished_spans()}
                return [
                    name
                    for name in ("run/webhooks.delivery_attempt", "email.send")
                    if name in names and len(receiver.received) == 1
                ]

            _wait_for(lambda: len(finished()) == 2, "the webhook task and the e-mail")
            everything = spans.get_finished_spans()
            (request,) = [s for s in everything if s.kind.name == "SERVER" and "checkout" in s.name]
            trace_id = request.context.trace_id
            in_trace = [s for s in everything if s.context.trace_id == trace_id]
            by_id = {s.context.span_id: s for s in in_trace}

            # The request's span: the shop routing chose, the id the answer carried.
            assert request.attributes["storefleet.schema"] == schema
            assert request.attributes["storefleet.request_id"] == request_id
            # Its statements, children within the trace.
            statements = [s for s in in_trace if s.attributes.get("db.system") == "postgresql"]
            assert statements and all(s.parent is not None for s in statements)
            # The event row carried the request's context across the commit.
            use_shop(ctx.shop)
            event = OutboxEvent.objects.get(schema_name=schema, type="order.created", payload__number=number)
            use_public()
            assert event.traceparent.split("-")[1] == f"{trace_id:032x}"
            assert event.request_id == request_id
            # The handler ran in the request's trace, linked to the dispatch task's span.
            (handled,) = [s for s in in_trace if s.name == "outbox.handle send_order_created_emails"]
            dispatch_runs = {s.context.span_id for s in everything if s.name == "run/tenants.outbox.dispatch"}
            assert {link.context.span_id for link in handled.links} & dispatch_runs
            assert str(event.pk) in handled.attributes["storefleet.outbox.event_ids"]
            # The e-mails are sent under it; the webhook task runs in the same trace.
            emails = [s for s in in_trace if s.name == "email.send"]
            assert emails and all(by_id[s.parent.span_id].name == handled.name for s in emails)
            assert {s.attributes["storefleet.email_kind"] for s in emails} >= {"order_confirmation"}
            (webhook_task,) = [s for s in in_trace if s.name == "run/webhooks.delivery_attempt"]
            assert webhook_task.kind.name == "CONSUMER"
            # Every span of the trace, in whichever process, carries the shop and the request id.
            missing = [
                s.name
                for s in in_trace
                if s.attributes.get("storefleet.schema") != schema
                or s.attributes.get("storefleet.request_id") != request_id
            ]
            assert not missing, missing
            assert len({s.resource.attributes["service.name"] for s in in_trace}) == 1
            assert len(mail.outbox) >= 1
        finally:
            use_public()
            OutboxEvent.objects.filter(schema_name=schema).delete()


@pytest.mark.django_db
def test_off_nothing_is_patched_and_events_carry_no_trace(shop_a: ShopContext) -> None:
    from django.conf import settings

    assert not settings.TRACING and not tracing.tracing_enabled()
    assert not any("opentelemetry" in entry for entry in settings.MIDDLEWARE)
    token = request_id_var.set("req-1")
    try:
        with transaction.atomic():
            event = event_record(type="inventory.low", payload={"variant_id": 1, "stock": 0})
    finally:
        request_id_var.reset(token)
    event.refresh_from_db()
    assert (event.traceparent, event.request_id) == ("", "req-1")


def test_handlers_run_per_trace_in_order_with_each_events_request_id(spans) -> None:
    seen: list[tuple[list[str], str | None, int]] = []

    def handler(events: list[Any]) -> None:
        from opentelemetry import trace

        seen.append(
            (
                [e.pk for e in events],
                request_id_var.get(),
                trace.get_current_span().get_span_context().trace_id,
            )
        )

    parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    events = [
        OutboxEvent(pk="1", type="x", traceparent=parent, request_id="r1"),
        OutboxEvent(pk="2", type="x", traceparent=parent, request_id="r1"),
        OutboxEvent(pk="3", type="x", traceparent="", request_id=""),
        OutboxEvent(pk="4", type="x", traceparent=parent, request_id="r1"),
    ]
    tracing.outbox_handler_run(handler, events)
    assert [(pks, rid) for pks, rid, _ in seen] == [(["1", "2"], "r1"), (["3"], None), (["4"], "r1")]
    assert seen[0][2] == seen[2][2] == int("a" * 32, 16) != seen[1][2]
    assert request_id_var.get() is None
