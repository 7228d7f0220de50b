"""Gunicorn settings; every knob can be overridden from the environment."""

import multiprocessing
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))  # the hooks below import tenants.observability

# `make run` binds gunicorn to loopback behind nginx (.ci/serve-web sets GUNICORN_BIND):
# never expose sync workers to clients directly, as a slow client holds one whole.
# Compose binds all addresses, for its edge proxy on the container network.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# One sync worker per core by default: where PostgreSQL and Redis share the cores
# (`make run`, this repository's benchmarks), their work fills a worker's waits,
# and more workers only switch and thrash caches: on 2 cores, 2 workers beat 4 in
# every scenario measured (README, benchmark section: "One gunicorn worker per CPU").
# On a web node whose database and Redis are elsewhere, each request waits on the
# network instead: set WEB_CONCURRENCY to twice its CPUs (compose does); in a
# container, set it anyway, as cpu_count() sees the host's CPUs.
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request still running after this is killed (and its worker replaced): the
# slowest legitimate request (an uncached search on a big shop, a checkout
# talking to a provider) takes about a second, so 30 s only catches hangs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (a deploy), workers finish their requests for up to this long;
# keep it under the orchestrator's kill timeout (compose stop_grace_period 30 s).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Behind the edge proxy, which keeps connections to upstream alive for 60 s
# (nginx `keepalive_timeout`): a sync worker holds a kept-alive connection only
# while reading the next request, so a few seconds is enough.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Gunicorn itself trusts no proxy header (by default it lets a peer on 127.0.0.1
# switch the scheme with X-Forwarded-Proto, and set SCRIPT_NAME): the app decides
# what the proxies may say, from NUM_PROXIES (tenants/proxies.py).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# Import Django once in the master: a worker (re)started by max_requests then
# forks ready in milliseconds instead of spending a second or more importing
# (the benchmark saw recycled workers cost p95 spikes of hundreds of ms).
# Nothing opens a database or Redis connection at import time, so none is shared.
preload_app = True
# Recycle workers now and then: a long-lived process (and the database backend it
# holds) that has visited thousands of shops accumulates per-schema caches. The
# jitter keeps the workers from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Requests are logged by the app (one JSON line each, with the shop's schema and
# the request id: tenants.observability); gunicorn's own access log would repeat
# them without either. GUNICORN_ACCESS_LOG=- turns it back on.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Gunicorn's own messages (boot, worker exits, timeouts) as JSON too, unless
# LOG_FORMAT=text: its logger with our formatter on its handlers. (A
# logconfig_dict would switch gunicorn's access log on whatever `accesslog` says.)
if os.environ.get("LOG_FORMAT", "json").strip().lower() == "json":
    from gunicorn.glogging import Logger

    class JsonLogger(Logger):
        def setup(self, cfg: object) -> None:
            from tenants.observability.logs import JsonFormatter

            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

    logger_class = JsonLogger

# Prometheus' multiprocess mode: every worker writes its samples to files here and
# /metrics adds them up. Set before the app (and prometheus_client) is imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(BASE_DIR / "var" / "prometheus" / "web"))


def on_starting(server: object) -> None:
    """Start from an empty metrics directory (files of an earlier run would be added in)."""
    from tenants.observability.multiprocess import multiprocess_dir, multiprocess_dir_reset

    path = multiprocess_dir()
    if path is not None:
        multiprocess_dir_reset(path)


def child_exit(server: object, worker: object) -> None:
    """Fold a dead worker's metric files into the archive, so recycling leaves no files behind."""
    from tenants.observability.multiprocess import process_files_archive

    process_files_archive(worker.pid)  # type: ignore[attr-defined]


def post_fork(server: object, worker: object) -> None:
    """Start exporting traces in the worker: the SDK's batch exporter must not cross a fork."""
    from tenants.observability.tracing import tracing_export_start

    tracing_export_start(service="storefleet-web")
