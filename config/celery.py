"""Celery application: Redis broker, every task carries its shop's schema."""

import os
import tempfile
from collections import OrderedDict
from typing import Any

from celery import Task
from celery.signals import beat_init, task_postrun, task_prerun, worker_init, worker_process_init
from django.conf import settings
from django.db import close_old_connections
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.cache import SimpleCache
from tenant_schemas_celery.task import TenantTask

from tenants.observability.heartbeat import ConsumerHeartbeat
from tenants.observability.tracing import tracing_export_start
from tenants.schemas import connections_recycle_over_budget

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A worker serving metrics needs Prometheus' multiprocess mode for its pool's
# processes, chosen before prometheus_client is imported.
if os.environ.get("WORKER_METRICS_PORT", "0") not in ("", "0") and not os.environ.get(
    "PROMETHEUS_MULTIPROC_DIR"
):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="storefleet-worker-metrics-")

import tenants.observability.celery_signals  # noqa: F401  (request ids in task headers, task metrics)

TENANT_CACHE_SIZE = 1024


class _BoundedStorage(OrderedDict[str, Any]):
    """At most TENANT_CACHE_SIZE entries; the oldest written goes first."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > TENANT_CACHE_SIZE:
            self.popitem(last=False)


_tenant_storage = _BoundedStorage()


class StorefleetTask(TenantTask):
    """
    tenant-schemas-celery keeps the Shop of every schema a worker ran a task for
    in a module-level dict that nothing ever empties (entries expire but stay), so
    a worker serving 10,000 shops held 10,000 Shop rows. Same cache, bounded.
    """

    abstract = True

    @classmethod
    def tenant_cache(cls) -> SimpleCache:
        return SimpleCache(storage=_tenant_storage)


# CeleryApp (tenant-schemas-celery) stamps each message with a `_schema_name`
# header taken from the connection's current schema and switches the worker's
# connection to that schema before the task runs.
app = CeleryApp("storefleet", task_cls="config.celery:StorefleetTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes the database connection before and after every
# task unless told to reuse it: a new PostgreSQL session (and its backend
# process) per task cost the checkout benchmark about half a core. Reuse each
# connection for 500 tasks, then recycle it, which also bounds the per-backend
# caches a worker visiting many shops builds up.
# (Tests close after each task, so their database can be dropped at the end.)
DEFAULT_DB_REUSE_MAX = "0" if settings.TESTING else "1000"
app.conf["CELERY_DB_REUSE_MAX"] = int(os.environ.get("CELERY_DB_REUSE_MAX", DEFAULT_DB_REUSE_MAX))
app.autodiscover_tasks()
app.steps["consumer"].add(ConsumerHeartbeat)


@task_prerun.connect
@task_postrun.connect
def _database_connections_check(task: Task | None = None, **kwargs: object) -> None:
    """
    Drop connections that broke (a database restart) or outlived CONN_MAX_AGE
    around each task, as Django does around each request. Not for eager tasks:
    they run inside the caller's transaction.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
    # A worker runs tasks for every shop: bound the schemas one session visits.
    connections_recycle_over_budget()


# Traces are exported from the processes that run tasks, each starting its exporter after
# the last fork (the SDK's batch exporter must not cross one): a prefork pool's children,
# or the worker itself with any other pool; and beat, which queues the relay.
@worker_process_init.connect
def _pool_process_tracing_start(**kwargs: object) -> None:
    tracing_export_start(service="storefleet-worker")


@worker_init.connect
def _worker_tracing_start(sender: Any = None, **kwargs: object) -> None:
    pool = getattr(sender, "pool_cls", None)
    if pool is not None and getattr(pool, "__module__", "") != "celery.concurrency.prefork":
        tracing_export_start(service="storefleet-worker")


@beat_init.connect
def _beat_tracing_start(**kwargs: object) -> None:
    tracing_export_start(service="storefleet-beat")
