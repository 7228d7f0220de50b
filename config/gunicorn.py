"""Gunicorn settings; every knob can be overridden from the environment."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers spend part of each request waiting on Redis or PostgreSQL, so two
# per core keep the cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Import Django once in the master: a worker (re)started by max_requests then
# forks ready in milliseconds instead of spending a second or more importing
# (the benchmark saw recycled workers cost p95 spikes of hundreds of ms).
# Nothing opens a database or Redis connection at import time, so none is shared.
preload_app = True
# Recycle workers now and then: a long-lived process (and the database backend it
# holds) that has visited thousands of shops accumulates per-schema caches.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
