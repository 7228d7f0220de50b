"""
What tracing costs a storefront request, in process: Django's WSGI handler called
directly (no gunicorn, no HTTP; `tests/perf/storefront.py`'s `wsgi_get`), on the
product list of a shop of 30 products, cached (the answer from Redis) and
uncached (the cache version bumped before each request: the page's statements run).

`TRACING_COST=off` (the default) runs with OTEL_EXPORTER_OTLP_ENDPOINT unset, as
production does without a collector: nothing is instrumented. `TRACING_COST=on`
instruments Django, psycopg, Redis and Celery and records every span into the
SDK's BatchSpanProcessor with an exporter that drops them (the cost of tracing
minus the network). Running the `off` mode on a checkout of the code before
tracing existed gives the "before" figure.

It runs on the checkout's test database (pytest-django), so run it with pytest, by path:

    TRACING_COST=off STOREFLEET_TESTING=1 .venv/bin/pytest tests/perf/tracing_cost.py -s -p no:cacheprovider
    TRACING_COST=on STOREFLEET_TESTING=1 .venv/bin/pytest tests/perf/tracing_cost.py -s -p no:cacheprovider

Wall and CPU times move with the machine's load; the count of Python calls per
request does not, and says whether the code a request runs changed at all.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import pytest

from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.perf.storefront import LIST_PATH, wsgi_get

MODE = os.environ.get("TRACING_COST", "off")
PRODUCTS = 30
CACHED_ROUNDS = 3000
UNCACHED_ROUNDS = 300


def _tracing_on() -> None:
    from django.db import connection
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from tenants.observability import tracing

    class Dropped(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracing.tracing_instrument()
    tracing.tracer_provider_set(service="tracing-cost", processors=[BatchSpanProcessor(Dropped())])
    # The test database's connection was made before psycopg was patched: trace it too.
    connection.ensure_connection()
    PsycopgInstrumentor().instrument_connection(connection.connection)


def _timed(call: Any, rounds: int) -> tuple[float, float]:
    """Median wall time and mean CPU time of `call`, in microseconds."""
    wall: list[float] = []
    cpu = time.process_time()
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        wall.append(time.perf_counter() - start)
    return statistics.median(wall) * 1e6, (time.process_time() - cpu) / rounds * 1e6


def _calls(call: Any) -> int:
    """How many Python functions `call` runs (a count that machine load does not change)."""
    counted = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal counted
        if event == "call":
            counted += 1

    sys.setprofile(count)
    try:
        call()
    finally:
        sys.setprofile(None)
    return counted


def test_storefront_list_cost(api, shop_a: ShopContext, django_capture_on_commit_callbacks) -> None:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from catalog.cache import storefront_cache_bump

    admin = AdminClient(api, shop_a)
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(PRODUCTS):
            body = {
                "title": f"Enamel Mug {index}",
                "status": "active",
                "variants": [{"sku": f"MUG-{index}", "price": "12.50", "stock": 5}],
            }
            assert admin.post("products", body).status_code == 201
    if MODE == "on":
        _tracing_on()
    # As Django's test client does: the handler would close the test transaction's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    handler = WSGIHandler()  # after instrumenting: its middleware chain has the tracing middleware
    host = shop_a.host
    status, headers, _ = wsgi_get(handler, LIST_PATH, host)
    assert status.startswith("200"), status
    status, headers, _ = wsgi_get(handler, LIST_PATH, host)
    assert headers.get("X-Cache") == "hit", headers
    from django.conf import settings

    traced = any("opentelemetry" in name for name in settings.MIDDLEWARE)
    assert traced == (MODE == "on")
    cached = _timed(lambda: wsgi_get(handler, LIST_PATH, host), CACHED_ROUNDS)
    schema = shop_a.shop.schema_name

    def uncached() -> None:
        storefront_cache_bump(schema)
        wsgi_get(handler, LIST_PATH, host)

    missed = _timed(uncached, UNCACHED_ROUNDS)
    calls = (_calls(lambda: wsgi_get(handler, LIST_PATH, host)), _calls(uncached))
    print(
        f"\ntracing {MODE} ({'instrumented, spans recorded' if traced else 'nothing patched'}):"
        f" cached list p50 {cached[0]:.0f} us wall, {cached[1]:.0f} us CPU;"
        f" uncached list p50 {missed[0]:.0f} us wall, {missed[1]:.0f} us CPU;"
        f" Python calls per request: cached {calls[0]}, uncached {calls[1]}"
    )


@pytest.fixture(autouse=True)
def _untraced_afterwards() -> Any:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    if MODE == "on":
        from tenants.observability import tracing

        tracing.tracing_uninstrument()
