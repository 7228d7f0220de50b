"""
What the benchmarks share: a database of their own, made and dropped safely; a
Redis database of their own, flushed; Django started in the benchmark's process;
free ports, HTTP GETs, gunicorn started as `make run` starts it, and the process
table that CPU is accounted from.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import os
import random
import re
import runpy
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from tests.net import free_port, http_get

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every benchmark drops the database it is given: only names with this ending are accepted.
PERF_DATABASE_SUFFIX = "_perf"
# Every benchmark flushes the Redis database it is given: these are never accepted.
REFUSED_REDIS_DATABASES = {0: "the development database", 15: "the test suite's database"}
SECRET_KEY = "bench"


def database_config(database_url: str) -> dict[str, Any]:
    import dj_database_url

    config: dict[str, Any] = dict(dj_database_url.parse(database_url))
    if not str(config.get("NAME", "")).endswith(PERF_DATABASE_SUFFIX):
        raise SystemExit(
            f"Refusing to use database {config.get('NAME')!r}: this benchmark drops its database, "
            f"so the name must end in {PERF_DATABASE_SUFFIX!r}."
        )
    return config


@contextmanager
def maintenance_connection(config: dict[str, Any]) -> Iterator[Any]:
    """An autocommit psycopg connection to the server's `postgres` database."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
    params = {key: str(config[setting]) for key, setting in keys.items() if config.get(setting)}
    with psycopg.connect(make_conninfo(dbname="postgres", **params), autocommit=True) as conn:
        yield conn


def database_drop(config: dict[str, Any]) -> None:
    from psycopg import sql

    with maintenance_connection(config) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"]))
        )


def database_recreate(config: dict[str, Any]) -> None:
    from psycopg import sql

    database_drop(config)
    with maintenance_connection(config) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def wrk_start(
    *, wrk: str, threads: int, connections: int, seconds: float, script: Path, port: int
) -> Callable[[], dict[str, Any]]:
    """
    Start wrk on 127.0.0.1:`port` with a Lua script that prints one `BENCH {json}`
    line when done; the returned function waits for it and returns that JSON.
    """
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait() -> dict[str, Any]:
        stdout, stderr = process.communicate()
        match = re.search(r"^BENCH (\{.*\})$", stdout, re.MULTILINE)
        if process.returncode != 0 or match is None:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{stdout}{stderr}")
        data: dict[str, Any] = json.loads(match.group(1))
        return data

    return wait


def wrk_done(counters: Sequence[str], *, status_errors: bool) -> str:
    """
    The Lua `done` of a wrk script whose threads (kept in its `threads` table) count
    `counters` (globals): one `BENCH {json}` line, as wrk_start reads it, with the
    requests, the run's duration and latency percentiles in µs, the errors (socket
    errors, and answers that are not 2xx or 3xx when `status_errors`) and each
    counter summed over the threads.
    """
    names = ", ".join(json.dumps(name) for name in counters)
    status = " + e.status" if status_errors else ""
    return f"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "errors": %d',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout{status}))
  for _, name in ipairs({{{names}}}) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get(name) end
    io.write(string.format(', "%s": %d', name, total))
  end
  io.write("}}\\n")
end
"""


def profile_tables(
    self_time: Sequence[tuple[str, int]],
    libraries: Sequence[tuple[str, int]],
    inclusive: Sequence[tuple[str, int]],
    samples: int,
) -> None:
    """Print a py-spy profile's shares of `samples` as Markdown tables: by function, by library, by frame."""
    tables = (
        ("function (self time)", self_time),
        ("library (self time)", libraries),
        ("frame (inclusive: it and what it calls)", inclusive),
    )
    for heading, rows in tables:
        print()
        print(f"| {heading} | share |")
        print("|---|---:|")
        for name, count in rows:
            print(f"| {name} | {count * 100 / samples:.1f}% |")


def zipf_sampler(n: int, s: float, rng: random.Random) -> Callable[[], int]:
    """Ranks 0..n-1 with P(k) proportional to 1/(k+1)^s."""
    weights = list(itertools.accumulate(1 / (k + 1) ** s for k in range(n)))
    total = weights[-1]
    return lambda: bisect.bisect_left(weights, rng.random() * total)


# --- Redis and Django -------------------------------------------------------------


def redis_database(redis_url: str) -> int:
    """The database number of a Redis URL; refuse the shared ones, since the benchmark flushes it."""
    path = urlsplit(redis_url).path.strip("/")
    if not path.isdigit():
        raise SystemExit(f"Give the Redis URL an explicit database number (e.g. {redis_url.rstrip('/')}/14).")
    number = int(path)
    if number in REFUSED_REDIS_DATABASES:
        raise SystemExit(
            f"Refusing Redis database {number} ({REFUSED_REDIS_DATABASES[number]}): "
            "this benchmark flushes it."
        )
    return number


def redis_flush(redis_url: str) -> None:
    """Flush the benchmark's own Redis database (only that one)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def bench_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """What every process of a benchmark runs with (gunicorn gets the same, less eager tasks)."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STOREFLEET_LOCAL": "1",
        "DEBUG": "0",  # DEBUG would record every query in memory
        "SECRET_KEY": SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The load comes from one client address: let it through, but still pay for counting
        # every request.
        "RATE_LIMIT_STOREFRONT_PER_MINUTE": "1000000000",
        "RATE_LIMIT_ADMIN_PER_MINUTE": "1000000000",
        "RATE_LIMIT_CHECKOUT_PER_MINUTE": "1000000000",
    }


def django_setup(env: dict[str, str], *, eager: bool) -> None:
    """
    Start Django in this process under `env` (and DEBUG off). With `eager`, tasks
    run inline (events dispatch on commit, so search documents are built as
    products are created); without, none does.
    """
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings", "STOREFLEET_LOCAL": "1", "DEBUG": "0", **env}
    )
    if eager:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    else:
        os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))

    import django

    django.setup()
    # One INFO line per eagerly run task would drown the progress lines.
    logging.getLogger("celery").setLevel(logging.WARNING)
    # Static files are not served by these endpoints; collectstatic is not needed.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")


def django_connections_close() -> None:
    """Close Django's connections, if Django was started (before the database is dropped)."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def bench_finish(config: dict[str, Any], redis_url: str, *, keep: bool) -> None:
    """A benchmark's last step, however it ended: its database dropped (unless `keep`), its Redis flushed."""
    django_connections_close()
    if keep:
        print(f"kept database {config['NAME']}")
    else:
        database_drop(config)
        print(f"dropped database {config['NAME']}")
    redis_flush(redis_url)
    print(f"flushed Redis {redis_url}")


@contextmanager
def warm_pool_refill_disabled() -> Iterator[None]:
    """
    `shop_create` schedules `warm_pool_refill.delay()` on commit. A benchmark
    measures the request path, and in production the refill runs in a Celery
    worker, so it is replaced by a no-op: no message is sent, and the pool is
    filled (or emptied) only where the benchmark says so.
    """
    with mock.patch("tenants.services._warm_pool_refill_soon", lambda: None):
        yield


def raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM unwinds like Ctrl-C, so the benchmark's `finally` drops what it made."""
    raise SystemExit(128 + signum)


# --- processes and HTTP -----------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    ppid: int
    comm: str
    cmdline: str
    own_ticks: int  # user + system
    children_ticks: int  # user + system of its children that have exited (and were waited for)
    started: int  # clock ticks after boot

    def short_name(self) -> str:
        """The command's name, with the script for interpreters ("python pytest")."""
        words = self.cmdline.split()
        if self.comm.startswith("python") and len(words) > 1:
            script = next((word for word in words[1:] if not word.startswith("-")), words[1])
            return f"python {Path(script).name}"
        return self.comm


def proc_table() -> dict[int, ProcInfo]:
    """Every process of the machine, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = ProcInfo(
            ppid=int(fields[1]),
            comm=stat[stat.index("(") + 1 : stat.rindex(")")],
            cmdline=cmdline.strip(),
            own_ticks=int(fields[11]) + int(fields[12]),  # utime stime
            children_ticks=int(fields[13]) + int(fields[14]),  # cutime cstime
            started=int(fields[19]),
        )
    return table


def gunicorn_settings(env: dict[str, str]) -> dict[str, Any]:
    """The settings config/gunicorn.py makes under `env`: the module run as gunicorn runs it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return runpy.run_path(str(REPO_ROOT / "config" / "gunicorn.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Gunicorn:
    """
    The web server as `make run` starts it (nginx in front of gunicorn, or with
    `front="none"` gunicorn alone), on free ports, its output in a log file.
    """

    COMMANDS = {
        "nginx": (".ci/serve-web",),
        "none": (".venv/bin/gunicorn", "-c", "config/gunicorn.py", "config.wsgi"),
    }

    def __init__(self, env: dict[str, str], log_path: Path, front: str = "nginx") -> None:
        # Behind nginx, gunicorn's own port defaults to PORT + 1, which may be taken: pick a free one.
        self.env = {"GUNICORN_PORT": str(free_port()), "LIVE_PORT": str(free_port()), **env}
        self.front = front
        self.COMMAND = self.COMMANDS[front]
        self.port = int(env["PORT"])
        self.log_path = log_path
        self.database = urlsplit(env["DATABASE_URL"]).path.strip("/")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            # A session of its own: a Ctrl-C reaches the benchmark, which then stops gunicorn itself.
            self.process = subprocess.Popen(
                self.COMMAND, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with suppress(OSError):
                status, _headers, _body = http_get(self.port, "localhost", "/healthz", timeout=1)
                if status == 200 and len(self.worker_pids()) >= self.workers_expected():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def workers_expected(self) -> int:
        return int(gunicorn_settings(self.env).get("workers", 1))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    @property
    def pid(self) -> int:
        """gunicorn's master: the process started, or serve-web's gunicorn child behind nginx."""
        master = self.master_pid()
        if master is None:
            raise RuntimeError("gunicorn is not running")
        return master

    def master_pid(self) -> int | None:
        if self.process is None:
            return None
        if self.front == "none":
            return self.process.pid
        parent = self.process.pid
        masters = [
            pid for pid, info in proc_table().items() if info.ppid == parent and "gunicorn" in info.cmdline
        ]
        return masters[0] if masters else None

    def worker_pids(self) -> list[int]:
        master = self.master_pid()
        return [pid for pid, info in proc_table().items() if info.ppid == master] if master else []

    def boots(self) -> int:
        """How many workers gunicorn has booted so far (the first ones and every recycled one)."""
        return self.log_path.read_text(errors="replace").count("Booting worker with pid")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    hits: int
    misses: int
    others: int

    @classmethod
    def from_wrk(cls, data: dict[str, Any]) -> Load:
        """The figures of a wrk script's BENCH line (see wrk_done); counters it kept not are 0."""
        return cls(
            requests=data["requests"],
            seconds=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1000,
            p95_ms=data["p95_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            errors=data["errors"],
            hits=data.get("hits", 0),
            misses=data.get("misses", 0),
            others=data.get("others", 0),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def x_cache(self) -> str:
        total = self.hits + self.misses + self.others
        if not total:
            return "-"
        parts = (("hit", self.hits), ("miss", self.misses), ("none", self.others))
        return " / ".join(f"{name} {count * 100 / total:.0f}%" for name, count in parts if count)
