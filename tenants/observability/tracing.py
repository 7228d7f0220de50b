"""
Traces across processes (OpenTelemetry): a checkout's request, its statements,
the outbox handlers that act on its events and the tasks they queue, in one
trace, exported by OTLP/HTTP. On only where `settings.TRACING` says so
(OTEL_EXPORTER_OTLP_ENDPOINT is set); off, nothing is patched, nothing of
OpenTelemetry is imported, and the outbox and mail paths pay one boolean test.

Two steps, because the SDK's batch exporter runs a thread with a lock, which a
fork copies in whatever state it is (OpenTelemetry's "Working With Fork Process
Models"):
- `tracing_instrument()` patches Django, psycopg, Redis and Celery, once, as
  Django starts (TenantsConfig.ready; in gunicorn's master too, before it builds
  the middleware chain and forks). Patching starts no thread, and the patched
  code's spans go to the global tracer provider: a no-op proxy until
- `tracing_export_start()`, in each process that serves requests or runs tasks,
  after any fork: gunicorn's `post_fork`, Celery's `worker_process_init` (prefork
  pool children) or `worker_init` (other pools), `beat_init`.

Every span gets the shop's schema and the request id (`storefleet.schema`,
`storefleet.request_id`): when it starts, from the connection's schema and the
request id of the work in hand; the request's own span, which starts before
routing and the request-id middleware, gets them when the response is made.

The outbox carries a trace across the commit: each event row keeps the W3C
`traceparent` of the span that recorded it (`traceparent_current`), and the
dispatcher runs each handler under a span whose parent is that context and
which links to the dispatch task's own span (`outbox_handler_run`). The
handler's statements, e-mails and queued tasks (whose headers the Celery
instrumentation fills) are then in the trace of the request that made the event.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

from tenants.observability.context import current_request_id, request_id_var

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.trace import Span

SCHEMA_ATTRIBUTE = "storefleet.schema"
REQUEST_ID_ATTRIBUTE = "storefleet.request_id"
TRACER_NAME = "storefleet"
# Probes and scrapes arrive every few seconds from every balancer and Prometheus: no traces.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

# Whether the libraries are patched; the outbox and mail spans follow it.
_instrumented = False
_provider_set = False


def tracing_enabled() -> bool:
    """Return whether this process traces (its libraries are instrumented)."""
    return _instrumented


def _shop_attributes_set(span: Span) -> None:
    from tenants.schemas import current_schema

    span.set_attribute(SCHEMA_ATTRIBUTE, current_schema())
    request_id = current_request_id()
    if request_id:
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def _request_span_finish(span: Span, request: HttpRequest, response: HttpResponse) -> None:
    """Give the request's span the shop routing chose and the request id the middleware answered."""
    if not span.is_recording():
        return
    tenant = getattr(request, "tenant", None)
    span.set_attribute(SCHEMA_ATTRIBUTE, tenant.schema_name if tenant is not None else "public")
    request_id = response.get("X-Request-ID")
    if request_id:
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def shop_attributes_processor() -> SpanProcessor:
    """Return the span processor that stamps every span with the schema and request id as it starts."""
    from opentelemetry.sdk.trace import SpanProcessor

    class ShopAttributes(SpanProcessor):
        def on_start(self, span: Span, parent_context: Any = None) -> None:
            _shop_attributes_set(span)

    return ShopAttributes()


def tracing_instrument() -> None:
    """Patch Django, psycopg, Redis and Celery to make spans (once per process)."""
    global _instrumented
    if _instrumented:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    DjangoInstrumentor().instrument(response_hook=_request_span_finish, excluded_urls=EXCLUDED_URLS)
    PsycopgInstrumentor().instrument()
    RedisInstrumentor().instrument()
    # Connected after config.celery's own task_prerun handlers (imported before Django starts),
    # so a task's span starts in its shop's schema and with its request id already set.
    CeleryInstrumentor().instrument()
    _instrumented = True


def tracing_uninstrument() -> None:
    """Undo `tracing_instrument` (tests)."""
    global _instrumented
    if not _instrumented:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (DjangoInstrumentor, PsycopgInstrumentor, RedisInstrumentor, CeleryInstrumentor):
        instrumentor().uninstrument()
    _instrumented = False


def tracer_provider_set(*, service: str, processors: Sequence[SpanProcessor]) -> None:
    """Make this process's spans go to `processors` (after the schema/request-id stamp); once per process."""
    global _provider_set
    if _provider_set:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    for processor in (shop_attributes_processor(), *processors):
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _provider_set = True


def tracing_export_start(*, service: str) -> None:
    """
    Export this process's spans by OTLP/HTTP (to OTEL_EXPORTER_OTLP_ENDPOINT), if
    tracing is on. Call it after the process's last fork, never before one.
    """
    if not settings.TRACING:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracing_instrument()  # a no-op where Django's start did it already
    tracer_provider_set(
        service=os.environ.get("OTEL_SERVICE_NAME") or service,
        processors=[BatchSpanProcessor(OTLPSpanExporter())],
    )


def traceparent_current() -> str:
    """Return the W3C traceparent of the current span, or "" when not tracing (or outside any span)."""
    if not _instrumented:
        return ""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent", "")


def outbox_handler_run(handler: Callable[[list[Any]], None], events: list[Any]) -> None:
    """
    Run an outbox handler with its events. When tracing, run it once per run of
    consecutive events made in the same trace and request (order kept), each
    time under a span in that trace, linked to the dispatch task's span, and with
    that request id in hand; otherwise once with all.
    """
    if not _instrumented:
        handler(events)
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    tracer = trace.get_tracer(TRACER_NAME)
    dispatch = trace.get_current_span().get_span_context()
    propagator = TraceContextTextMapPropagator()
    for (traceparent, request_id), run in itertools.groupby(
        events, key=lambda event: (event.traceparent, event.request_id)
    ):
        batch = list(run)
        parent = propagator.extract({"traceparent": traceparent}) if traceparent else None
        links = [trace.Link(dispatch)] if parent is not None and dispatch.is_valid else None
        token = request_id_var.set(request_id or None)
        try:
            with tracer.start_as_current_span(
                f"outbox.handle {handler.__qualname__}",
                context=parent,
                links=links,
                attributes={
                    "storefleet.outbox.event_types": sorted({event.type for event in batch}),
                    "storefleet.outbox.event_ids": [str(event.pk) for event in batch],
                },
            ):
                handler(batch)
        finally:
            request_id_var.reset(token)


@contextlib.contextmanager
def traced(name: str, **attributes: str) -> Iterator[None]:
    """Run the block under a span `name` (with `storefleet.`-prefixed attributes) when tracing."""
    if not _instrumented:
        yield
        return
    from opentelemetry import trace

    with trace.get_tracer(TRACER_NAME).start_as_current_span(
        name, attributes={f"storefleet.{key}": value for key, value in attributes.items()}
    ):
        yield
