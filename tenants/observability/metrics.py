"""
Prometheus metrics and the `/metrics` answer.

Request metrics are labelled by the shop's schema. Cardinality stays bounded:
the label takes only the schemas of existing shops (`public` for the platform
host, `none` for health checks and unknown hosts; never a raw hostname, path or
id), the API (`storefront`, `admin`, `platform`, `other`) and the status class,
so a shop adds at most 4 × 4 counter series and 2 × 11 histogram series for the
two APIs it serves (about 30 in all, about 300,000 at 10,000 busy shops, which one
Prometheus holds easily). `METRICS_LABEL_SHOPS=0` folds every shop into `all` for
a deployment that wants a few series only. Celery metrics are labelled by task
name (a few dozen). Outbox lag and warm-pool size are read from PostgreSQL when
scraped, so they are never stale and cost nothing between scrapes.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator
from functools import cache

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tenants.observability.multiprocess import multiprocess_dir
from tenants.proxies import client_address

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "storefleet_http_requests",
    "HTTP requests answered, by shop schema, API and status class.",
    ["schema", "api", "status"],
)
REQUEST_SECONDS = Histogram(
    "storefleet_http_request_duration_seconds",
    "Time to answer an HTTP request inside the app, by shop schema and API.",
    ["schema", "api"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
TASKS = Counter(
    "storefleet_celery_tasks",
    "Celery tasks run, by task name and final state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
TASK_SECONDS = Histogram(
    "storefleet_celery_task_duration_seconds",
    "Time a Celery task ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0),
)


class DatabaseCollector(Collector):
    """Gauges read from PostgreSQL at scrape time: outbox lag (every outbox with events), pool, shops."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from tenants.models import Shop, SpareSchema
        from tenants.outbox import services as outbox
        from tenants.schemas import use_public

        up = GaugeMetricFamily("storefleet_metrics_database_up", "1 if the scrape could read PostgreSQL.")
        try:
            use_public()
            # The public outbox and those of the shops the relay knows to have events waiting.
            oldest, waiting = outbox.pending_oldest(outbox.pending_shops())
            spares = SpareSchema.objects.count()
            shops = dict(Shop.objects.values_list("status").annotate(count=Count("id")).order_by())
        except Exception:
            logger.exception("metrics: reading PostgreSQL failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        lag = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "storefleet_outbox_lag_seconds",
            "Age of the oldest undispatched outbox event (0 when none is waiting).",
            value=max(lag, 0.0),
        )
        yield GaugeMetricFamily(
            "storefleet_outbox_pending_events", "Outbox events not dispatched yet.", value=waiting
        )
        yield GaugeMetricFamily(
            "storefleet_warm_pool_size", "Spare schemas ready in the warm pool.", value=spares
        )
        yield GaugeMetricFamily(
            "storefleet_warm_pool_target",
            "Spare schemas the pool is refilled to.",
            value=settings.WARM_POOL_SIZE,
        )
        by_status = GaugeMetricFamily("storefleet_shops", "Shops, by status.", labels=["status"])
        for status in Shop.Status.values:
            by_status.add_metric([status], shops.get(status, 0))
        yield by_status


class WorkerHeartbeatCollector(Collector):
    """Seconds since each queue's workers last beat (tenants.observability.heartbeat), at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from tenants.observability.heartbeat import heartbeats_read

        try:
            beats = heartbeats_read()
        except Exception:
            logger.warning("metrics: reading worker heartbeats failed", exc_info=True)
            return
        age = GaugeMetricFamily(
            "storefleet_worker_heartbeat_age_seconds",
            "Seconds since a worker consuming the queue last beat (+Inf: never).",
            labels=["queue"],
        )
        alive = GaugeMetricFamily(
            "storefleet_workers_alive", "Workers consuming the queue that beat recently.", labels=["queue"]
        )
        for beat in beats:
            age.add_metric([beat.queue], beat.age_seconds)
            alive.add_metric([beat.queue], beat.workers)
        yield age
        yield alive


def metrics_text() -> bytes:
    """Render every metric: all processes' samples (multiprocess mode) or this one's, plus the gauges."""
    path = multiprocess_dir()
    if path is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(path))
        samples = generate_latest(registry)
    else:
        samples = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    database.register(WorkerHeartbeatCollector())
    return samples + generate_latest(database)


@cache
def _networks(networks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def metrics_allowed(request: HttpRequest) -> bool:
    """A scraper may read /metrics with the bearer token, or from an allowed network."""
    token = settings.METRICS_TOKEN
    if token:
        offered = request.META.get("HTTP_AUTHORIZATION", "")
        if hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return True
    try:
        # Behind a proxy the peer is the proxy: ask who the client is (tenants.proxies).
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def metrics_response(request: HttpRequest) -> HttpResponse:
    """Answer `GET /metrics` for a scraper that may read it; a 403 problem for anyone else."""
    from tenants.conventions.problems import problem_response

    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="Metrics are read with GET.", headers={"Allow": "GET, HEAD"})
    if not metrics_allowed(request):
        return problem_response(
            403,
            title="Metrics are private",
            detail="Send the metrics token (Authorization: Bearer ...) or scrape from an allowed network.",
            code="metrics_forbidden",
        )
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
