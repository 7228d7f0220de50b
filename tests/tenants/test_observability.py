"""
Request ids, JSON logs carrying the shop and the request, `/metrics` (access,
labels, bounded cardinality, database gauges), task metrics and request ids in
a real worker, and Prometheus' multiprocess files under gunicorn.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tenants.models import SpareSchema
from tenants.observability.context import request_id_var
from tenants.observability.logs import JsonFormatter
from tenants.observability.multiprocess import process_files_archive
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import events_sweep
from tenants.schemas import use_public, use_shop
from tests.conftest import ShopContext, assert_problem
from tests.net import free_port

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """JSON lines written by the root logger while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def records(stream: io.StringIO, logger: str | None = None) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if logger is None or line["logger"] == logger]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(api, **extra) -> dict:
    response = api.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


# --- request ids and logs ------------------------------------------------------


@pytest.mark.django_db
def test_a_well_formed_request_id_is_kept_and_returned(api, shop_a: ShopContext, json_lines) -> None:
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host, HTTP_X_REQUEST_ID="edge-42.abc")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-42.abc"
    (line,) = records(json_lines, "storefleet.request")
    assert line["request_id"] == "edge-42.abc"
    assert line["schema"] == shop_a.shop.schema_name
    assert line["status"] == 200 and line["method"] == "GET" and line["path"] == "/api/storefront/v1/shop"
    assert line["api"] == "storefront" and line["level"] == "info"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "", "has space", "x" * 129, 'quote"d', "new\nline{}"])
def test_a_missing_or_malformed_request_id_is_replaced(api, shop_a: ShopContext, incoming) -> None:
    extra = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host, **extra)
    assert HEX32.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_answer_carries_a_request_id_problems_and_health_checks_included(api, json_lines) -> None:
    unknown = api.get("/api/storefront/v1/shop", HTTP_HOST="nobody.example")
    assert_problem(unknown, 404)
    assert HEX32.fullmatch(unknown["X-Request-ID"])
    assert HEX32.fullmatch(api.get("/healthz")["X-Request-ID"])
    (line,) = records(json_lines, "storefleet.request")  # health checks are logged at DEBUG only
    assert line["status"] == 404 and line["schema"] == "none" and line["host"] == "nobody.example"


@pytest.mark.django_db
def test_cached_storefront_answers_are_counted_not_logged(api, shop_a: ShopContext, json_lines) -> None:
    key = (
        "storefleet_http_requests_total",
        (("api", "storefront"), ("schema", shop_a.shop.schema_name), ("status", "2xx")),
    )
    before = scrape(api).get(key, 0)
    for _ in range(3):
        assert api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host).status_code == 200
    # The miss that filled the cache is logged; the hits are in the metrics only (DEBUG lines).
    (line,) = [r for r in records(json_lines, "storefleet.request") if r["path"].endswith("/products")]
    assert line["cache"] == "miss" and line["level"] == "info"
    assert scrape(api).get(key, 0) - before == 3


@pytest.mark.django_db
def test_the_query_string_is_never_logged(api, shop_a: ShopContext, json_lines) -> None:
    api.get("/api/storefront/v1/orders/1001?token=secret-order-token", HTTP_HOST=shop_a.host)
    assert "secret-order-token" not in json_lines.getvalue()
    assert records(json_lines, "storefleet.request")[0]["path"] == "/api/storefront/v1/orders/1001"


@pytest.mark.django_db
def test_any_log_record_carries_the_schema_and_request_id_in_hand(shop_a: ShopContext, json_lines) -> None:
    use_shop(shop_a.shop)
    token = request_id_var.set("req-7")
    try:
        logging.getLogger("catalog.services").warning("stock low for %s", "SKU-1", extra={"sku": "SKU-1"})
    finally:
        request_id_var.reset(token)
    use_public()
    logging.getLogger("tenants.tasks").info("pool refilled")
    first, second = records(json_lines)
    assert first == {
        "time": first["time"],
        "level": "warning",
        "logger": "catalog.services",
        "message": "stock low for SKU-1",
        "request_id": "req-7",
        "schema": shop_a.shop.schema_name,
        "sku": "SKU-1",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert "request_id" not in second and second["schema"] == "public"


def test_exceptions_are_logged_as_one_json_line(json_lines) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    (line,) = records(json_lines)
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


# --- /metrics --------------------------------------------------------------------


@pytest.mark.django_db
def test_request_metrics_are_labelled_by_shop_schema_api_and_status_class(
    api, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    before = scrape(api)
    for _ in range(3):
        api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    api.get("/api/storefront/v1/products/nope", HTTP_HOST=shop_b.host)
    api.get("/api/admin/v1/products", HTTP_HOST=shop_b.host)  # no credentials: 401
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    a, b = shop_a.shop.schema_name, shop_b.shop.schema_name
    total = "storefleet_http_requests_total"
    assert delta(total, schema=a, api="storefront", status="2xx") == 3
    assert delta(total, schema=b, api="storefront", status="4xx") == 1
    assert delta(total, schema=b, api="admin", status="4xx") == 1
    seconds = "storefleet_http_request_duration_seconds"
    assert delta(f"{seconds}_count", schema=a, api="storefront") == 3
    assert delta(f"{seconds}_bucket", schema=a, api="storefront", le="+Inf") == 3


@pytest.mark.django_db
def test_unknown_hosts_add_no_series(api, shop_a: ShopContext) -> None:
    def schemas() -> set[str]:
        return {dict(labels)["schema"] for name, labels in scrape(api) if name.startswith("storefleet_http_")}

    before = schemas()
    for index in range(20):
        api.get("/api/storefront/v1/shop", HTTP_HOST=f"random-{index}.example")
    api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    added = schemas() - before
    assert added <= {"none", shop_a.shop.schema_name}
    assert shop_a.shop.schema_name in schemas() and "none" in schemas()


@pytest.mark.django_db
def test_shops_can_be_folded_into_one_label(api, shop_a: ShopContext, settings) -> None:
    settings.METRICS_LABEL_SHOPS = False
    from rest_framework.test import APIClient

    client = APIClient()  # a new handler builds its middleware with the setting
    client.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    found = scrape(client)
    key = ("storefleet_http_requests_total", (("api", "storefront"), ("schema", "all"), ("status", "2xx")))
    assert found[key] >= 1


@pytest.mark.django_db
def test_metrics_are_refused_to_other_networks_without_the_token(api, settings) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    body = assert_problem(api.get("/metrics", **outside), 403)
    assert body["code"] == "metrics_forbidden"
    settings.METRICS_TOKEN = "s3cret-token"
    assert_problem(api.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside), 403)
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token", **outside).status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert api.get("/metrics", **outside).status_code == 200
    assert_problem(api.post("/metrics", **outside), 405)


@pytest.mark.django_db
def test_metrics_answer_on_every_host(api, shop_a: ShopContext) -> None:
    for host in (settings.PLATFORM_HOST, shop_a.host, "unknown.example"):
        assert api.get("/metrics", HTTP_HOST=host).status_code == 200


@pytest.mark.django_db
def test_outbox_lag_warm_pool_and_shops_are_read_at_scrape_time(api, shop_a: ShopContext) -> None:
    found = scrape(api)
    assert found[("storefleet_metrics_database_up", ())] == 1
    assert found[("storefleet_warm_pool_size", ())] == SpareSchema.objects.count()
    assert found[("storefleet_warm_pool_target", ())] == settings.WARM_POOL_SIZE
    assert found[("storefleet_shops", (("status", "active"),))] >= 1

    OutboxEvent.objects.filter(dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    assert scrape(api)[("storefleet_outbox_lag_seconds", ())] == 0
    # An event waiting in a shop's own outbox counts once the relay knows the shop has events
    # (a commit notes it; here, as after a Redis loss, the sweep finds it).
    schema = shop_a.shop.schema_name
    use_shop(shop_a.shop)
    event = OutboxEvent.objects.create(schema_name=schema, type="product.updated", payload={})
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    use_public()
    assert scrape(api)[("storefleet_outbox_pending_events", ())] == 0
    assert events_sweep() == 1
    found = scrape(api)
    assert 120 <= found[("storefleet_outbox_lag_seconds", ())] < 180
    assert found[("storefleet_outbox_pending_events", ())] == 1
    # The public outbox's own (the platform's account e-mails) count too.
    OutboxEvent.objects.create(schema_name="public", type="account.password_reset_requested", payload={})
    found = scrape(api)
    assert 120 <= found[("storefleet_outbox_lag_seconds", ())] < 180
    assert found[("storefleet_outbox_pending_events", ())] == 2


# --- Celery ----------------------------------------------------------------------

TASK_LOG = "tests.observability.task"


@shared_task(name="tests.observability.log_in_task")
def log_in_task(label: str) -> None:
    logging.getLogger(TASK_LOG).warning("ran %s", label)  # the test worker logs WARNING and up


def test_a_task_queued_by_a_request_logs_its_request_id_and_shop(committed_shop: ShopContext, worker) -> None:
    from tenants.observability.metrics import TASKS

    # A handler on the task's logger itself: the worker's start-up may rearrange the root's.
    json_lines = io.StringIO()
    handler = logging.StreamHandler(json_lines)
    handler.setFormatter(JsonFormatter())
    logging.getLogger(TASK_LOG).addHandler(handler)

    try:
        before = TASKS.labels("tests.observability.log_in_task", "SUCCESS")._value.get()
        use_shop(committed_shop.shop)
        token = request_id_var.set("req-from-checkout")
        try:
            log_in_task.delay("one")
        finally:
            request_id_var.reset(token)
        use_public()
        log_in_task.delay("two")  # queued outside any request: no request id

        lines: list[dict] = []
        for _ in range(100):
            lines = records(json_lines, TASK_LOG)
            if len(lines) == 2:
                break
            time.sleep(0.1)
        by_message = {line["message"]: line for line in lines}
        assert len(lines) == 2, json_lines.getvalue()[-3000:]
        one, two = by_message["ran one"], by_message["ran two"]
        assert one["request_id"] == "req-from-checkout"
        assert one["schema"] == committed_shop.shop.schema_name
        assert one["task"] == "tests.observability.log_in_task" and one["task_id"]
        assert "request_id" not in two and two["schema"] == "public"
        for _ in range(50):  # postrun runs just after the task body
            if TASKS.labels("tests.observability.log_in_task", "SUCCESS")._value.get() - before == 2:
                break
            time.sleep(0.05)
        assert TASKS.labels("tests.observability.log_in_task", "SUCCESS")._value.get() - before == 2
    finally:
        logging.getLogger(TASK_LOG).removeHandler(handler)


# --- multiprocess mode -------------------------------------------------------------


def test_a_dead_process_files_are_folded_into_the_archive(tmp_path: Path) -> None:
    key = '["storefleet_x", "storefleet_x_total", {"schema": "shop_a"}, "help"]'
    other = '["storefleet_x", "storefleet_x_total", {"schema": "shop_b"}, "help"]'
    for pid, values in ((101, {key: 3.0}), (102, {key: 4.0, other: 1.0}), (103, {key: 5.0})):
        mmap = MmapedDict(str(tmp_path / f"counter_{pid}.db"))
        for name, value in values.items():
            mmap.write_value(name, value, 0.0)
        mmap.close()

    def totals() -> dict:
        merged = MultiProcessCollector.merge([str(p) for p in tmp_path.glob("*.db")])
        return {(s.name, s.labels["schema"]): s.value for metric in merged for s in metric.samples}

    assert totals() == {("storefleet_x_total", "shop_a"): 12.0, ("storefleet_x_total", "shop_b"): 1.0}
    assert process_files_archive(101, tmp_path) == 1
    assert process_files_archive(102, tmp_path) == 1
    assert totals() == {("storefleet_x_total", "shop_a"): 12.0, ("storefleet_x_total", "shop_b"): 1.0}
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["counter_103.db", "counter_archive.db"]


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.django_db
def test_gunicorn_workers_recycled_by_max_requests_lose_no_counts(tmp_path: Path) -> None:
    """Real gunicorn, 2 workers recycled every ~10 requests: /metrics still counts every request."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    database = connection.settings_dict
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_MAX_REQUESTS": "10",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "LOG_FORMAT": "json",
        "STOREFLEET_LOCAL": "1",
    }
    env.pop("STOREFLEET_TESTING", None)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        requests = 60
        for _ in range(requests - 1):
            status, headers, _ = get(f"{base}/healthz")
            assert status == 200 and HEX32.fullmatch(headers["X-Request-ID"])
        time.sleep(1.0)  # let the master reap the last recycled worker
        status, _, body = get(f"{base}/metrics")
        assert status == 200
        found = samples(body.decode())
        key = ("storefleet_http_requests_total", (("api", "other"), ("schema", "none"), ("status", "2xx")))
        assert found[key] == requests
        assert found[("storefleet_metrics_database_up", ())] == 1
        files = sorted(p.name for p in metrics_dir.glob("*.db"))
        # Dead workers' files were folded into the archive: at most the live workers' remain.
        assert "counter_archive.db" in files
        assert len([name for name in files if name.startswith("counter_")]) <= 3, files
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    assert parsed and len(parsed) == len([line for line in lines if line.strip()]), lines[:5]
    assert any(line["logger"] == "gunicorn.error" for line in parsed)
    assert not any(line["logger"] == "gunicorn.access" for line in parsed)


def test_request_id_context_is_per_thread() -> None:
    seen = []
    token = request_id_var.set("main")
    try:
        thread = threading.Thread(target=lambda: seen.append(request_id_var.get()))
        thread.start()
        thread.join()
    finally:
        request_id_var.reset(token)
    assert seen == [None]
