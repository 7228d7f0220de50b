"""
Celery signal handlers: the request id travels with each task in a `request_id`
header (beside tenant-schemas-celery's `_schema_name`), so a worker's log records
carry the request that queued the task and the shop it runs in; every task run is
counted and timed.
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_init

from tenants.observability.context import current_request_id, request_id_var, task_var
from tenants.observability.metrics import TASK_SECONDS, TASKS

REQUEST_ID_HEADER = "request_id"

# Per task id, in the process running it: start time and the context tokens to restore.
_running: dict[str, tuple[float, Token[str | None], Token[tuple[str, str] | None]]] = {}


@before_task_publish.connect
def _request_id_to_header(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
def _task_started(task_id: str | None = None, task: Task | None = None, **kwargs: Any) -> None:
    if task is None or task_id is None:
        return
    # An eager task runs inside its caller and keeps the caller's id.
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or current_request_id()
    _running[task_id] = (
        time.perf_counter(),
        request_id_var.set(request_id),
        task_var.set((task.name, task_id)),
    )


@task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Task | None = None, state: str | None = None, **kwargs: Any
) -> None:
    if task is None or task_id is None:
        return
    started = _running.pop(task_id, None)
    TASKS.labels(task.name, state or "UNKNOWN").inc()
    if started is None:
        return
    began, request_token, task_token = started
    TASK_SECONDS.labels(task.name).observe(time.perf_counter() - began)
    try:
        task_var.reset(task_token)
        request_id_var.reset(request_token)
    except ValueError:  # finished in another context than it started (never in prefork)
        task_var.set(None)
        request_id_var.set(None)


@worker_init.connect
def _worker_metrics_serve(**kwargs: Any) -> None:
    """Serve this worker's metrics on WORKER_METRICS_PORT (all its pool processes), if set."""
    from django.conf import settings
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    from tenants.observability.multiprocess import multiprocess_dir, multiprocess_dir_reset

    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    path = multiprocess_dir()
    if path is None:
        start_http_server(port, addr=settings.WORKER_METRICS_ADDRESS)
        return
    multiprocess_dir_reset(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))
    start_http_server(port, addr=settings.WORKER_METRICS_ADDRESS, registry=registry)
