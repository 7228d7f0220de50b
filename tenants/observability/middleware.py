"""The first middleware: request id, `/metrics`, and each request's metrics and JSON log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

from tenants.observability.context import request_id_accept, request_id_var
from tenants.observability.metrics import REQUEST_SECONDS, REQUESTS, metrics_response
from tenants.proxies import client_address

request_logger = logging.getLogger("storefleet.request")

STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
# Probes and scrapes arrive every few seconds from every balancer and Prometheus;
# their lines would drown the rest, so they are logged at DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Answers served from the storefront cache are the bulk of the traffic and say
# nothing the metrics don't (counted and timed by shop): logged at DEBUG too.
# Formatting their JSON line was a large share of a cached answer's CPU, enough to
# keep the storefront below its throughput target (README, benchmark section).
QUIET_CACHE = "hit"


def api_of(path: str) -> str:
    """Name the API a path belongs to (a bounded metrics label)."""
    if path.startswith("/api/storefront/"):
        return "storefront"
    if path.startswith("/api/admin/"):
        return "admin"
    if path.startswith("/api/platform/"):
        return "platform"
    return "other"


class RequestObservabilityMiddleware:
    """
    Give every request an id (a well-formed incoming `X-Request-ID`, or a new
    one), answered as `X-Request-ID` and carried by every log record and every
    task queued while it runs; answer `/metrics` on any host, before routing;
    count and time the request by shop schema and log one JSON line for it.
    Sits first, so the time covers routing and the cached storefront path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.label_shops = settings.METRICS_LABEL_SHOPS
        # Metric children by label values: a dict lookup instead of `labels()` (a lock
        # and a tuple check) twice per request. Bounded like the labels themselves.
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_accept(request.META.get("HTTP_X_REQUEST_ID"))
        token = request_id_var.set(request_id)
        try:
            path = request.path
            response = metrics_response(request) if path == "/metrics" else self.get_response(request)
            response["X-Request-ID"] = request_id
            self._record(request, response, time.perf_counter() - started)
            return response
        finally:
            request_id_var.reset(token)

    def _record(self, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        tenant = getattr(request, "tenant", None)
        schema = tenant.schema_name if tenant is not None else "none"
        path = request.path
        api = api_of(path)
        status = response.status_code
        key = (schema if self.label_shops else "all", api, STATUS_CLASSES.get(status // 100, "other"))
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (REQUESTS.labels(*key), REQUEST_SECONDS.labels(*key[:2]))
        children[0].inc()
        children[1].observe(seconds)
        cache = response.get("X-Cache")
        quiet = path in QUIET_PATHS or (cache == QUIET_CACHE and status < 400)
        level = logging.DEBUG if quiet else logging.INFO
        if request_logger.isEnabledFor(level):
            # The query string is left out: it may carry secrets (an order's ?token=).
            request_logger.log(
                level,
                "%s %s %s",
                request.method,
                path,
                status,
                extra={
                    "schema": schema,
                    "method": request.method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "host": request.META.get("HTTP_HOST", ""),
                    # The client (tenants.proxies: the peer, or the trusted proxies' word for it).
                    "client_addr": client_address(request),
                    "remote_addr": request.META.get("REMOTE_ADDR", ""),
                    "api": api,
                    "cache": cache,
                },
            )
