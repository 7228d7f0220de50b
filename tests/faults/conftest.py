"""
The fault suite's machinery: a private Redis, real Celery workers, an SMTP sink,
a webhook receiver, a load of checkouts and a way to kill this test database's
PostgreSQL sessions, so each test can break one thing under a bounded load and
check what shoppers and merchants would see.

Everything here is private to the test: the Redis server is started on a free
port and killed or frozen by its pid (never the shared 127.0.0.1:6379); only
backends of this checkout's test database whose application name the test gave
them are terminated; receivers and sinks listen on free local ports.

Scale: `make test` runs the quick form (a few orders a test); `make test-faults`
sets FAULTS_FULL=1, which runs each test under a larger load and longer faults.

Adding a fault: a new `test_<what breaks>.py` here, with one `@pytest.mark.django_db`
test (so the session has a test database) and tests that take `workers` (then
`start_both()`), `beat`, `private_redis`, `smtp_sink`, `committed_shop` /
`other_shop` and `api`; load through `support.Shopper`, break something, then
check with `support.outcome(...).assert_exactly_once()` and print the figures with
`report(...)`, sizes from `scaled(quick, full)`.
"""

from __future__ import annotations

import email
import os
import shutil
import signal
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection

import tenants.keys
import tenants.process_cache
import tenants.selectors
from config.celery import app as celery_app
from tenants.outbox.services import events_relay, events_sweep
from tenants.schemas import use_public
from tenants.webhooks.services import deliveries_due_queue
from tests.redis_server import RedisServer

FULL = os.environ.get("FAULTS_FULL", "") not in ("", "0")
BASE_DIR = Path(settings.BASE_DIR)
APP_NAME_PREFIX = f"storefleet-fault-{settings.TEST_RUN_ID}"
# Fast relay and sweep for the suite (production: a 30 s claim, relay every 15 s, sweep every 60 s).
RELAY_AFTER = timedelta(seconds=3)


def scaled(quick: int, full: int) -> int:
    """A figure of the quick run (`make test`) or the full one (`make test-faults`)."""
    return full if FULL else quick


def wait_for(
    condition: Callable[[], object], what: str, seconds: float = 30, logs: Callable[[], str] | None = None
) -> float:
    """Poll until `condition` holds; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(
                f"timed out after {seconds} s waiting for {what}" + (f"\n{logs()}" if logs else "")
            )
        time.sleep(0.05)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(name: str, **figures: Any) -> None:
    """Print a test's figures (pytest -s shows them; the README quotes them)."""
    shown = ", ".join(
        f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in figures.items()
    )
    print(f"\n[faults] {name}: {shown}")


# --- Redis --------------------------------------------------------------------------

# RedisServer (tests/redis_server.py) is imported here for the fault tests that name it.


@pytest.fixture(autouse=True)
def _checkout_budget_for_the_load(settings: Any) -> None:
    """The loads check out from one client address: the per-client checkout budget is not under test here."""
    settings.RATE_LIMIT_CHECKOUT_PER_MINUTE = 100_000


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """
    A Redis of the test's own, and this process pointed at it (cache, carts,
    outbox wake-ups, the Celery broker) until the test ends.
    """
    # This process' host-cache listener subscribes once, to the Redis configured when it
    # starts: start it on the shared one now, so it does not stay on this one after the test.
    tenants.process_cache.listener_start()
    server = RedisServer(appendonly=True).start()
    saved = (settings.REDIS_URL, settings.CELERY_BROKER_URL, celery_app.conf.broker_url, tenants.keys._redis)
    namespace = settings.OUTBOX_REDIS_NAMESPACE
    # The workers' name for the outbox wake-up flags (tests elsewhere use one per session).
    settings.OUTBOX_REDIS_NAMESPACE = f"outbox-{settings.TEST_RUN_ID}"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
    celery_app.conf.broker_url = server.url
    tenants.keys._redis = None
    _celery_connections_forget()
    try:
        yield server
    finally:
        server.close()
        settings.REDIS_URL, settings.CELERY_BROKER_URL, celery_app.conf.broker_url, tenants.keys._redis = (
            saved
        )
        settings.OUTBOX_REDIS_NAMESPACE = namespace
        _celery_connections_forget()


def _celery_connections_forget() -> None:
    """Make Celery open its producer connections anew, to the broker now configured."""
    kombu.pools.reset()  # closes every pool and forgets them
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


# --- PostgreSQL -----------------------------------------------------------------------


def backends_terminate(app_name: str = APP_NAME_PREFIX) -> int:
    """Terminate this test database's sessions whose application name starts with `app_name`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE %s AND pid <> pg_backend_pid()",
            [app_name + "%"],
        )
        return int(cursor.fetchone()[0])


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="") + (
        ":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- Mail -----------------------------------------------------------------------------


@dataclass
class Mail:
    to: str
    subject: str
    message_id: str
    at: float


class SmtpSink:
    """
    A small SMTP server that keeps every message it accepts. A message to
    `stall_for` is stored at once, and the final 250 is held back until
    `release` is set: the mail server has the mail, the worker does not know yet.
    A message to `hold_before` waits at its RCPT, before the server has it, until
    `release` is set (or the sender goes away).
    """

    def __init__(self) -> None:
        self.received: list[Mail] = []
        self.stall_for = ""
        self.hold_before = ""
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                    elif verb == b"MAIL":
                        recipients = []
                        self.wfile.write(b"250 OK\r\n")
                    elif verb == b"RCPT":
                        recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                        if sink.hold_before and sink.hold_before in recipients:
                            sink.stalled.set()
                            sink.release.wait(60)
                        self.wfile.write(b"250 OK\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        sink._accept(email.message_from_bytes(data), recipients)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # RSET, NOOP
                        self.wfile.write(b"250 OK\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def _accept(self, message: email.message.Message, recipients: list[str]) -> None:
        with self._lock:
            for recipient in recipients:
                self.received.append(
                    Mail(recipient, str(message["Subject"]), str(message["Message-ID"]), time.time())
                )
        if self.stall_for and self.stall_for in recipients:
            self.stalled.set()
            self.release.wait(60)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=30"

    def to(self, recipient: str) -> list[Mail]:
        with self._lock:
            return [mail for mail in self.received if mail.to == recipient]

    def __enter__(self) -> SmtpSink:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


# --- Workers ----------------------------------------------------------------------------


@dataclass
class Workers:
    """Celery workers (subprocesses) on the test database, the private Redis and the SMTP sink."""

    tmp: Path
    redis_url: str
    smtp_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, name: str) -> dict[str, str]:
        return {
            **os.environ,
            "STOREFLEET_TESTING": "1",  # same TEST_RUN_ID: the same queue names and key prefixes
            "DATABASE_URL": database_url(),
            "PGAPPNAME": f"{APP_NAME_PREFIX}-{name}",  # what backends_terminate picks out
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": self.smtp_url,
            "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
            "OUTCOME_RECORD_SECONDS": "20",
            "CELERY_DB_REUSE_MAX": "1000",  # sessions kept across tasks, as deployed
            "PYTHONPATH": str(BASE_DIR),
            **self.extra_env,
        }

    def start(self, name: str, *, queues: list[str], concurrency: int = 1) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        pool = (
            ["--pool", "solo"]
            if concurrency == 1
            else ["--pool", "prefork", "--concurrency", str(concurrency)]
        )
        process = subprocess.Popen(
            [
                str(BASE_DIR / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                *pool,
                "-l",
                "info",
                "-Q",
                ",".join(queues),
                "-n",
                f"{name}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=BASE_DIR,
            env=self.env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started[name] = process
        return process

    def start_both(self, concurrency: int = 1) -> None:
        """One worker for the default queue (outbox, e-mails) and one for webhook attempts, as deployed."""
        self.start("mail", queues=[settings.CELERY_TASK_DEFAULT_QUEUE], concurrency=concurrency)
        self.start("hooks", queues=[settings.WEBHOOK_QUEUE], concurrency=max(concurrency, 2))
        self.wait_ready("mail", "hooks")

    def wait_ready(self, *names: str, seconds: float = 60) -> None:
        for name in names:
            wait_for(
                lambda name=name: " ready." in self.log(name), f"worker {name} ready", seconds, self.logs
            )

    def alive(self, name: str) -> bool:
        return self.started[name].poll() is None

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}"
            for path in sorted(self.tmp.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def test_database(django_db_setup: None) -> None:
    """Be on the test database (pytest-django makes it only for a session with a django_db test)."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail(
            "No test database: run tests/faults with a django_db test in the session (each file has one)."
        )


@pytest.fixture
def workers(
    test_database: None, private_redis: RedisServer, smtp_sink: SmtpSink, request: pytest.FixtureRequest
) -> Iterator[Workers]:
    """
    Workers on the private Redis, not started yet; stopped at the end. Tasks
    leave this process for real. Their logs stay in var/faults/<test>/ for a look
    after a failure (each run starts it afresh).
    """
    tmp = BASE_DIR / "var" / "faults" / request.node.name[:80]
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    private_urls = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receivers listen on 127.0.0.1
    started = Workers(tmp=tmp, redis_url=private_redis.url, smtp_url=smtp_sink.url)
    try:
        yield started
    finally:
        celery_app.conf.task_always_eager = eager
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = private_urls
        started.stop_all()


class Beat(threading.Thread):
    """
    What beat does, every `interval` seconds and faster than deployed: the outbox
    relay and sweep (which finds the shops with events again after Redis lost its
    set) and the webhook sweep, from this process (on the private Redis).
    """

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.stopping = threading.Event()
        self.errors = 0

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.interval):
                try:
                    use_public()
                    events_sweep()
                    events_relay(older_than=RELAY_AFTER)
                    deliveries_due_queue()
                except Exception:
                    self.errors += 1  # Redis or the database is what the test has broken
                    connection.close()
        finally:
            connection.close()


@pytest.fixture
def beat(workers: Workers, django_db_blocker: Any) -> Iterator[Beat]:
    with django_db_blocker.unblock():
        ticking = Beat()
        ticking.start()
        try:
            yield ticking
        finally:
            ticking.stopping.set()
            ticking.join(10)


@pytest.fixture
def other_shop(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """A second shop with committed rows (as `committed_shop`), for faults that must stay in one shop."""
    from tenants import provisioning
    from tests.conftest import TEST_POOL_SIZE, committed_shop_drop, make_shop

    with django_db_blocker.unblock():
        ctx = make_shop("bystander")
        try:
            yield ctx
        finally:
            use_public()
            committed_shop_drop(ctx.shop)
            ctx.owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
