"""
Worker health where operators look: /readyz reports each queue's live workers and
their last heartbeat (without failing readiness), /metrics has the heartbeat's
age per queue, and every metric the Prometheus alert rules use is one /metrics
really serves.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tenants.keys import redis_client
from tenants.observability.heartbeat import heartbeat_write
from tests.tenants.test_observability import scrape

ALERTS = Path(settings.BASE_DIR) / "docker" / "prometheus" / "alerts.yml"


@pytest.fixture
def no_heartbeats():
    redis_client().delete(settings.WORKER_HEARTBEAT_KEY)
    yield
    redis_client().delete(settings.WORKER_HEARTBEAT_KEY)


@pytest.mark.django_db
def test_readyz_reports_each_queues_workers_without_failing_for_them(api, no_heartbeats) -> None:
    body = api.get("/readyz").json()
    assert body["status"] == "ok"  # the web process is ready even with no worker
    assert body["workers"]["status"].startswith("stale")
    assert body["workers"]["queues"][settings.WEBHOOK_QUEUE] == {"workers": 0, "last_beat_seconds_ago": None}

    heartbeat_write(hostname="mail@box", queues=[settings.CELERY_TASK_DEFAULT_QUEUE], now=time.time() - 2)
    heartbeat_write(hostname="hooks@box", queues=[settings.WEBHOOK_QUEUE])
    heartbeat_write(hostname="gone@box", queues=[settings.WEBHOOK_QUEUE], now=time.time() - 600)
    workers = api.get("/readyz").json()["workers"]
    assert workers["status"] == "ok"
    default = workers["queues"][settings.CELERY_TASK_DEFAULT_QUEUE]
    assert default["workers"] == 1 and 1.5 < default["last_beat_seconds_ago"] < 10
    assert (
        workers["queues"][settings.WEBHOOK_QUEUE]["workers"] == 1
    )  # the one gone ten minutes is not counted


@pytest.mark.django_db
def test_the_alert_rules_use_metrics_that_are_served(api, no_heartbeats) -> None:
    heartbeat_write(hostname="mail@box", queues=[settings.CELERY_TASK_DEFAULT_QUEUE], now=time.time() - 30)
    found = scrape(api)
    ages = {
        labels: value
        for (name, labels), value in found.items()
        if name == "storefleet_worker_heartbeat_age_seconds"
    }
    assert 29 < ages[(("queue", settings.CELERY_TASK_DEFAULT_QUEUE),)] < 60
    assert ages[(("queue", settings.WEBHOOK_QUEUE),)] == float("inf")  # no webhook worker ever beat

    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "StorefleetOutboxLagging",
        "StorefleetWorkerHeartbeatMissing",
    }
    served = {name for name, _ in found}
    for rule in rules:
        used = set(re.findall(r"storefleet_[a-z_]+", rule["expr"]))
        assert used and used <= served, (rule["alert"], used - served)
        assert rule["for"] and rule["annotations"]["summary"]
