"""
Checkout benchmark: how many orders per second gunicorn takes, how fast, and how
long the shopper then waits for the confirmation e-mail.

One shop (`checkout-bench.localhost`, EUR) with 200 active products, each one
variant with a large stock, is seeded in a database of the benchmark's own.
Gunicorn is then started as `make run` starts it (`.venv/bin/gunicorn -c
config/gunicorn.py config.wsgi`: the same workers, worker class and access log;
only its control socket is off, as its default path is shared by every gunicorn
of the user), with `DEBUG=0`, and a Celery worker as `make run` starts it (`.venv/bin/celery -A
config worker --concurrency 2`, at log level warning) with `EMAIL_URL=file://...`,
so the order e-mails land as files in a temporary directory.

The load is N concurrent shoppers (Python threads; each checkout costs the
server far more than the client), each looping: create a cart, add 1-3 random
products (1-2 of each), check out with a fresh `Idempotency-Key` and the test
card 4242 4242 4242 4242. A run lasts --warmup + --duration seconds per
concurrency level; only requests that start after the warm-up and end before
the stop are measured:

- checkouts/s and the latency percentiles are those of the checkout request alone;
- the shopper-flow figures (all requests/s, one flow from new cart to order) are
  printed beside them: cart requests take their share of the same two cores;
- optionally (--checkout-only-concurrency) the same with carts filled beforehand
  in-process, so that the checkout endpoint has the server to itself.

After each level the benchmark waits for the worker to catch up and measures,
for the orders placed in the measured window:

- order -> e-mail: from the order's `placed_at` to the confirmation e-mail being
  sent (the `sent_at` of its SentEmail row: the start of the transaction that
  sends it; or, for Message-IDs made by Python's `make_msgid`, the centiseconds
  it stamps as the file backend serialises the message);
- order -> dispatched: from the `order.created` outbox event's `created_at` to its
  `dispatched_at` (all handlers done: e-mails, webhooks, the sales report).

Both include the outbox's dispatch delay (OUTBOX_DISPATCH_DELAY_MS, 500 ms by
default), which gathers the orders placed meanwhile into one batch.

If `orders.emails` does not exist (no order e-mails yet), only the latter is shown.

At the end: no oversell (for each variant, stock now + units sold = the initial
stock), one order per successful checkout, each paid. CPU per process group
(gunicorn, Celery worker, PostgreSQL, Redis, this load generator) is read from
/proc for every level. When the target is missed (or with --profile always),
py-spy (if installed: `.venv/bin/pip install py-spy`) samples the gunicorn workers
under load and the functions and libraries with the most on-CPU time are listed.

Target on the 2-core machine: >= 100 orders/s with the checkout p95 < 200 ms.

The database (`storefleet_checkout_perf` by default; the name must end in
`_perf`) is dropped and recreated at the start and dropped at the end (unless
--keep). The Redis database (`redis://127.0.0.1:6379/13` by default; 0 and 15 are
refused) is flushed at the start and the end.

--cpu-only skips gunicorn and the worker processes: it measures, in this process,
the application CPU (median time.process_time) of each cart request, of the
checkout and of an order's share of the outbox dispatcher (e-mails, webhook
deliveries), with a cProfile of each under --cprofile (see cpu_measure).

Run it by hand from the repository root; pytest never collects tests/perf. With
the defaults it takes about 5 minutes:

    .venv/bin/python tests/perf/checkout.py
    .venv/bin/python tests/perf/checkout.py --concurrency 4,8 --duration 10 --profile never
    .venv/bin/python tests/perf/checkout.py --gunicorn-env WEB_CONCURRENCY=4
    .venv/bin/python tests/perf/checkout.py --cpu-only --products 50 --cpu-rounds 200 [--cprofile]
"""

from __future__ import annotations

import argparse
import email.parser
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from tenants.models import Shop

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # run as a script: make `tests.perf` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.perf.support import (
    REPO_ROOT,
    bench_environment,
    bench_finish,
    database_config,
    database_recreate,
    django_setup,
    free_port,
    proc_table,
    profile_tables,
    raise_on_sigterm,
    redis_database,
    redis_flush,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_checkout_perf"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SHOP_SLUG = "checkout-bench"
SHOP_NAME = "Checkout Bench"
OWNER_EMAIL = "owner@checkout-bench.example"
INITIAL_STOCK = 1_000_000
CARD = "4242424242424242"
ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Load Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
STOREFRONT = "/api/storefront/v1"

TARGET_RPS = 100.0
TARGET_P95_MS = 200.0
NOISE_CORES = 0.25  # CPU used by processes outside the benchmark that is worth a warning


# --- the database and Redis -----------------------------------------------------


def eager_tasks_off() -> None:
    """From here on, what this process queues goes to the worker, as gunicorn's messages do."""
    from config.celery import app

    app.conf.task_always_eager = False


# --- seeding --------------------------------------------------------------------


@dataclass
class Fixture:
    shop: Shop
    host: str
    variants: list[int]


def shop_seed(products: int) -> Fixture:
    from django.core.management import call_command

    from catalog.models import Product, Variant
    from catalog.services import VariantSpec, product_create
    from tenants.audit.services import Actor
    from tenants.provisioning import warm_pool_fill
    from tenants.schemas import use_public, use_shop
    from tenants.services import shop_create, user_signup

    print("migrating the benchmark database...", file=sys.stderr)
    call_command("migrate_schemas", interactive=False, verbosity=0)
    owner = user_signup(email=OWNER_EMAIL, password="perf-Bench-owner-4781!", name="Bench Owner")
    with mock.patch("tenants.services._warm_pool_refill_soon", lambda: None):
        warm_pool_fill(size=1)
        # Enterprise: the free plan's orders a month would stop the run early.
        shop = shop_create(owner=owner, name=SHOP_NAME, slug=SHOP_SLUG, currency="EUR", plan="enterprise")
    use_shop(shop)
    rng = random.Random(20261122)
    actor = Actor.system("perf-seed")
    start = time.perf_counter()
    for i in range(products):
        product_create(
            actor=actor,
            title=f"Bench Product {i:03d}",
            status=Product.Status.ACTIVE,
            variants=[
                VariantSpec(
                    sku=f"BENCH-{i:03d}",
                    price=Decimal(rng.choice((5, 9, 12, 19, 25, 39, 49, 79))) + Decimal("0.90"),
                    stock=INITIAL_STOCK,
                )
            ],
        )
        use_shop(shop)  # an eager task may have left the connection on another schema
        print(f"\r  products: {i + 1}/{products}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    variants = list(Variant.objects.order_by("id").values_list("id", flat=True))
    print(f"seeded {SHOP_SLUG}: {products} products in {time.perf_counter() - start:.1f} s (product_create)")
    use_public()
    return Fixture(shop=shop, host=f"{SHOP_SLUG}.localhost", variants=variants)


# --- processes ------------------------------------------------------------------


class Server:
    """A child process in a session of its own (a Ctrl-C reaches only the benchmark), output to a log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def children(self) -> list[int]:
        return [pid for pid, info in proc_table().items() if info.ppid == self.pid] if self.process else []

    def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the leader stops its own children gracefully
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def gunicorn_start(env: dict[str, str], workdir: Path, timeout: float = 60.0) -> Server:
    server = Server(
        "gunicorn",
        # No control socket: its default path is per user, so gunicorns of other benchmarks on this
        # machine would share it (and could stop this one).
        [".venv/bin/gunicorn", "-c", "config/gunicorn.py", "--no-control-socket", "config.wsgi"],
        env,
        workdir / "gunicorn.log",
    )
    server.start()
    workers = int(env.get("WEB_CONCURRENCY", "1"))  # at least; config/gunicorn.py has the default
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        with suppress(OSError):
            status, _body = http_request(int(env["PORT"]), "localhost", "GET", "/healthz", timeout=1)
            if status == 200 and len(server.children()) >= workers:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{server.log_tail()}")


def worker_start(env: dict[str, str], workdir: Path, concurrency: int, timeout: float = 60.0) -> Server:
    from config.celery import app

    server = Server(
        "celery worker",
        [".venv/bin/celery", "-A", "config", "worker", "-l", "warning", "--concurrency", str(concurrency)],
        env,
        workdir / "worker.log",
    )
    server.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        if app.control.ping(timeout=1.0):
            return server
    server.stop()
    raise RuntimeError(
        f"the Celery worker did not answer a ping within {timeout:.0f} s:\n{server.log_tail()}"
    )


# --- CPU accounting from /proc ---------------------------------------------------


CPU_GROUPS = ("gunicorn", "worker", "postgres", "redis", "load", "other")


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    ticks: dict[tuple[int, int], tuple[str, int]]  # (pid, start time) -> (group, ticks so far)
    uptime: int  # clock ticks after boot
    busy: int  # busy ticks of the whole machine (all cores), from /proc/stat
    sessions: int  # PostgreSQL sessions opened on the benchmark's database so far


class PgSessions:
    """Sessions opened on the benchmark's database so far (pg_stat_database), on a connection of its own."""

    def __init__(self, config: dict[str, Any]) -> None:
        import psycopg
        from psycopg.conninfo import make_conninfo

        keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
        params = {key: str(config[setting]) for key, setting in keys.items() if config.get(setting)}
        self.conn = psycopg.connect(make_conninfo(dbname=config["NAME"], **params), autocommit=True)

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


def cpu_snapshot(gunicorn: Server, worker: Server, database: str, sessions: PgSessions) -> CpuSnapshot:
    """
    CPU ticks so far per process, with its group. Gunicorn and the worker count
    their leader and children, with the children they reaped (recycled workers).
    PostgreSQL counts its own processes and this database's backends, not other
    databases'. Other processes count only their own ticks: a shell that reaps a
    long test run would otherwise bring all of it into the window.
    """
    ticks: dict[tuple[int, int], tuple[str, int]] = {}
    uptime = int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK"))
    for pid, info in proc_table().items():
        count = info.own_ticks
        if gunicorn.process and gunicorn.pid in (pid, info.ppid):
            group, count = "gunicorn", info.own_ticks + info.children_ticks
        elif worker.process and worker.pid in (pid, info.ppid):
            group, count = "worker", info.own_ticks + info.children_ticks
        elif pid == os.getpid():
            group = "load"
        elif info.comm == "postgres" or info.cmdline.startswith("postgres"):
            backend = re.match(r"postgres: [^:]+: \S+ (\S+) ", info.cmdline)
            group = "postgres" if backend is None or backend.group(1) == database else "other"
        elif info.comm == "redis-server":
            group = "redis"
        else:
            group = "other"
        ticks[pid, info.started] = (group, count)
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    busy = sum(values) - values[3] - values[4]  # less idle and iowait
    return CpuSnapshot(time.monotonic(), ticks, uptime, busy, sessions.count())


def cpu_between(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """
    Cores used per group between two snapshots (1.0 = one core busy the whole
    time), and by the whole machine. A process that ended in between is not
    counted (e.g. a short-lived database connection), so groups can come out low.
    """
    scale = os.sysconf("SC_CLK_TCK") * (after.at - before.at)
    used = dict.fromkeys(CPU_GROUPS, 0.0)
    for (pid, started), (group, ticks) in after.ticks.items():
        if (pid, started) in before.ticks:
            used[group] += max(0, ticks - before.ticks[pid, started][1]) / scale
        elif started >= before.uptime:  # started in between; else it was missed (unreadable) before
            used[group] += ticks / scale
    used["machine"] = (after.busy - before.busy) / scale
    used["sessions"] = after.sessions - before.sessions  # a count, not cores
    return used


# --- load -----------------------------------------------------------------------


def http_request(
    port: int,
    host: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One request on a connection of its own (gunicorn's sync workers close every connection)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {
            "Host": host,
            **({"Content-Type": "application/json"} if payload else {}),
            **(headers or {}),
        }
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Sample:
    kind: str  # cart, item, checkout
    start: float
    end: float
    status: int  # 0: no answer (connection error, timeout)


@dataclass
class Shopper:
    """One thread of the load: its own random stream and its own record of requests and flows."""

    number: int
    port: int
    host: str
    variants: list[int]
    carts: list[str] | None  # checkout-only: carts filled beforehand
    rng: random.Random = field(init=False)
    samples: list[Sample] = field(default_factory=list)
    flows: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each successful flow
    orders: list[int] = field(default_factory=list)
    ran_out_at: float | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.number)

    def request(self, kind: str, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        start = time.perf_counter()
        try:
            status, raw = http_request(self.port, self.host, method, f"{STOREFRONT}/{path}", body, headers)
        except (OSError, http.client.HTTPException):
            status, raw = 0, b""
        self.samples.append(Sample(kind, start, time.perf_counter(), status))
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def cart_fill(self) -> str | None:
        status, cart = self.request("cart", "POST", "carts")
        if status != 201:
            return None
        for variant in self.rng.sample(self.variants, self.rng.randint(1, 3)):
            status, _ = self.request(
                "item",
                "POST",
                f"carts/{cart['id']}/items",
                {"variant": variant, "quantity": self.rng.randint(1, 2)},
            )
            if status != 201:
                return None
        return str(cart["id"])

    def checkout(self, cart_id: str) -> None:
        body = {
            "cart": cart_id,
            "email": f"shopper{self.number}-{self.rng.randrange(10**6)}@bench.example",
            "shipping_address": ADDRESS,
            "payment_method": {"provider": "test", "card_number": CARD},
        }
        status, order = self.request(
            "checkout", "POST", "checkout", body, **{"Idempotency-Key": uuid.uuid4().hex}
        )
        if status == 201:
            self.orders.append(int(order["number"]))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            start = time.perf_counter()
            if self.carts is None:
                cart_id = self.cart_fill()
            elif self.carts:
                cart_id = self.carts.pop()
            else:
                self.ran_out_at = time.perf_counter()
                return
            if cart_id is None:
                continue
            orders = len(self.orders)
            self.checkout(cart_id)
            if len(self.orders) > orders:
                self.flows.append((start, time.perf_counter()))


def carts_prefill(fixture: Fixture, shoppers: int, per_shopper: int, seed: int) -> list[list[str]]:
    """Fill carts in-process (the same `orders.carts` calls as the cart endpoints make), for checkout-only."""
    from orders import carts
    from tenants.schemas import use_public, use_shop

    use_shop(fixture.shop)
    rng = random.Random(seed)
    filled: list[list[str]] = []
    for _ in range(shoppers):
        own = []
        for _ in range(per_shopper):
            cart_id = carts.cart_create()
            for variant in rng.sample(fixture.variants, rng.randint(1, 3)):
                carts.cart_item_add(cart_id, variant_id=variant, quantity=rng.randint(1, 2), currency="EUR")
            own.append(cart_id)
        filled.append(own)
    use_public()
    return filled


def percentile(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass
class Level:
    """What one concurrency level measured."""

    label: str
    concurrency: int
    seconds: float  # of the measured window
    checkouts_ms: list[float]  # successful checkouts finished in the window
    errors: int  # checkouts in the window that did not answer 201
    error_kinds: Counter[str]
    requests: int  # every request finished in the window
    flow_ms: list[float]
    window: tuple[float, float]  # time.time() at the window's start and end
    orders: list[int]  # every order placed at this level (warm-up included)
    cpu: dict[str, float]
    email_ms: list[float] = field(default_factory=list)
    dispatched_ms: list[float] = field(default_factory=list)
    undelivered: int = 0
    drain_seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.checkouts_ms) / self.seconds if self.seconds else 0.0

    @property
    def p95(self) -> float:
        return percentile(self.checkouts_ms, 95)

    def row(self) -> str:
        c = self.checkouts_ms
        return (
            f"| {self.concurrency} | {self.rps:.1f} | {percentile(c, 50):.0f} | {percentile(c, 95):.0f} "
            f"| {percentile(c, 99):.0f} | {self.errors} |"
        )


def level_run(
    label: str,
    fixture: Fixture,
    port: int,
    concurrency: int,
    warmup: float,
    duration: float,
    snapshot: Callable[[], CpuSnapshot],
    carts: list[list[str]] | None = None,
) -> Level:
    """Run `concurrency` shoppers for warmup + duration seconds; measure what ran after the warm-up."""
    shoppers = [
        Shopper(n, port, fixture.host, fixture.variants, carts[n] if carts else None)
        for n in range(concurrency)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in shoppers]
    print(f"  {label}: {concurrency} shoppers, {warmup:.0f} s warm-up + {duration:.0f} s...", file=sys.stderr)
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    cpu_before = snapshot()
    start, wall_start = time.perf_counter(), time.time()
    end = start + duration
    while time.perf_counter() < end and not any(s.ran_out_at for s in shoppers):
        time.sleep(0.05)
    end = min([time.perf_counter()] + [s.ran_out_at for s in shoppers if s.ran_out_at])
    cpu = cpu_between(cpu_before, snapshot())
    wall_end = wall_start + (end - start)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    def measured(sample: Sample) -> bool:
        return sample.start >= start and sample.end <= end

    samples = [sample for s in shoppers for sample in s.samples if measured(sample)]
    checkouts = [sample for sample in samples if sample.kind == "checkout"]
    kinds = Counter(
        f"{sample.kind} {sample.status or 'no answer'}"
        for sample in samples
        if sample.status not in (200, 201)
    )
    flows = [(b - a) * 1000 for s in shoppers for a, b in s.flows if a >= start and b <= end]
    return Level(
        label=label,
        concurrency=concurrency,
        seconds=end - start,
        checkouts_ms=[(c.end - c.start) * 1000 for c in checkouts if c.status == 201],
        errors=sum(1 for c in checkouts if c.status != 201),
        error_kinds=kinds,
        requests=len(samples),
        flow_ms=flows,
        window=(wall_start, wall_end),
        orders=[number for s in shoppers for number in s.orders],
        cpu=cpu,
    )


# --- order -> e-mail and order -> dispatched ----------------------------------------------

CONFIRMATION_SUBJECT = re.compile(r"^Your order #(\d+) at ")
MESSAGE_ID_TIME = re.compile(r"^<(\d+)\.")
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


class MailBox:
    """The file backend's directory: confirmation e-mails by order number, with the time each was written."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.offsets: dict[Path, int] = {}
        self.written: dict[int, float] = {}  # order number -> unix time the e-mail was serialised
        self.messages = 0
        self.parser = email.parser.BytesHeaderParser()

    def scan(self) -> None:
        for path in sorted(self.directory.glob("*.log")):
            data = path.read_bytes()
            start = self.offsets.get(path, 0)
            # Several messages can share a file (the backend names it by second and object id);
            # read only whole messages: each one ends with the separator.
            last = data.rfind(MESSAGE_SEPARATOR)
            if last < start:
                continue
            for raw in data[start:last].split(MESSAGE_SEPARATOR):
                self.message_add(raw.lstrip(b"\n"))
            self.offsets[path] = last + len(MESSAGE_SEPARATOR)

    def message_add(self, raw: bytes) -> None:
        if not raw.strip():
            return
        self.messages += 1
        headers = self.parser.parsebytes(raw)
        subject = CONFIRMATION_SUBJECT.match(str(headers.get("Subject", "")))
        stamp = MESSAGE_ID_TIME.match(str(headers.get("Message-ID", "")))
        if subject:
            # Message-IDs made by make_msgid carry the time; the deterministic ones of exactly-once
            # sending do not, and confirmations_sent_at() gives the time instead.
            self.written.setdefault(int(subject.group(1)), int(stamp.group(1)) / 100 if stamp else math.nan)


def confirmations_sent_at(fixture: Fixture) -> dict[int, float]:
    """Order number -> when its confirmation was sent (SentEmail.sent_at: its sending transaction's start)."""
    from orders.models import SentEmail
    from tenants.outbox.models import OutboxEvent
    from tenants.schemas import use_public, use_shop

    use_shop(fixture.shop)  # its e-mails and its outbox are in its schema
    sent = dict(
        SentEmail.objects.filter(kind=SentEmail.Kind.ORDER_CONFIRMATION).values_list("event_id", "sent_at")
    )
    numbers = list(OutboxEvent.objects.filter(pk__in=list(sent)).values_list("pk", "payload__number"))
    use_public()
    return {int(number): sent[pk].timestamp() for pk, number in numbers}


def emails_expected() -> bool:
    import importlib.util

    return importlib.util.find_spec("orders.emails") is not None


def worker_drain(
    fixture: Fixture, mailbox: MailBox | None, orders: list[int], timeout: float
) -> tuple[float, int]:
    """
    Wait until the worker has dispatched every event of the shop and (with
    e-mails) written a confirmation for each of `orders`; return the seconds
    waited and what is still missing at the timeout.
    """
    from tenants.outbox.models import OutboxEvent
    from tenants.schemas import use_public, use_shop

    wanted = set(orders)
    waited_from = time.monotonic()
    while True:
        use_shop(fixture.shop)  # the shop's outbox is in its schema
        pending = OutboxEvent.objects.filter(
            schema_name=fixture.shop.schema_name, dispatched_at__isnull=True
        ).count()
        use_public()
        if mailbox is not None:
            mailbox.scan()
        missing = len(wanted - set(mailbox.written)) if mailbox is not None else 0
        if (not pending and not missing) or time.monotonic() - waited_from > timeout:
            return time.monotonic() - waited_from, pending + missing
        time.sleep(0.25)


def latencies_measure(level: Level, fixture: Fixture, mailbox: MailBox | None, timeout: float) -> None:
    """Wait for the worker to dispatch this level's events (and write its e-mails); measure both latencies."""
    from orders.models import ORDER_NUMBER_OFFSET, Order
    from tenants.outbox.models import OutboxEvent
    from tenants.schemas import use_public, use_shop

    level.drain_seconds, level.undelivered = worker_drain(fixture, mailbox, level.orders, timeout)
    schema = fixture.shop.schema_name

    use_shop(fixture.shop)
    placed = dict(
        Order.objects.filter(pk__in=[n - ORDER_NUMBER_OFFSET for n in level.orders]).values_list(
            "pk", "placed_at"
        )
    )
    use_public()
    window_start, window_end = level.window
    in_window = {
        pk + ORDER_NUMBER_OFFSET: at.timestamp()
        for pk, at in placed.items()
        if window_start <= at.timestamp() <= window_end
    }
    if mailbox is not None:
        sent_at = confirmations_sent_at(fixture)
        written = {
            number: sent_at.get(number, math.nan) if math.isnan(at) else at
            for number, at in mailbox.written.items()
        }
        level.email_ms = [
            (written[number] - at) * 1000
            for number, at in in_window.items()
            if not math.isnan(written.get(number, math.nan))
        ]
    use_shop(fixture.shop)  # the shop's outbox is in its schema
    events = OutboxEvent.objects.filter(
        schema_name=schema, type="order.created", dispatched_at__isnull=False
    ).values_list("payload__number", "created_at", "dispatched_at")
    level.dispatched_ms = [
        (dispatched - created).total_seconds() * 1000
        for number, created, dispatched in events.iterator()
        if number in in_window
    ]
    use_public()


# --- checks -----------------------------------------------------------------------------------


def oversell_check(fixture: Fixture, checkouts: int) -> tuple[bool, str]:
    """Stock now + units sold = the initial stock for every variant; one paid order per 201."""
    from django.db.models import Sum

    from catalog.models import Variant
    from orders.models import Order, OrderLine
    from tenants.schemas import use_public, use_shop

    use_shop(fixture.shop)
    sold = dict(
        OrderLine.objects.values("variant_id")
        .annotate(units=Sum("quantity"))
        .values_list("variant_id", "units")
    )
    stock = dict(Variant.objects.values_list("id", "stock"))
    wrong = [v for v in fixture.variants if stock[v] + sold.get(v, 0) != INITIAL_STOCK]
    orders = Order.objects.count()
    unpaid = Order.objects.exclude(status=Order.Status.PAID).count()
    units = sum(sold.values())
    use_public()
    ok = not wrong and orders == checkouts and not unpaid
    verdict = "OK" if not wrong else f"{len(wrong)} variants WRONG"
    mismatch = "" if orders == checkouts else " (MISMATCH)"
    text = (
        f"oversell check: {verdict} (stock + sold = {INITIAL_STOCK:,} for all {len(fixture.variants)} "
        f"variants; {units:,} units sold); orders: {orders:,} in the database for {checkouts:,} "
        f"checkouts answered 201{mismatch}, {unpaid} not paid"
    )
    return ok, text


# --- in-process: the SQL and CPU of one checkout ---------------------------------------------


@dataclass
class InProcess:
    statements: int
    by_table: Counter[str]
    wall_ms: float
    cpu_ms: float
    orders: int


def in_process_measure(fixture: Fixture, rounds: int = 40) -> InProcess:
    """Checkouts through Django's handler in this process (no gunicorn, no HTTP): SQL statements and CPU."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders import carts
    from tenants.schemas import use_public, use_shop

    client = Client()
    rng = random.Random(7)

    def one(capture: bool) -> tuple[float, float, list[str]]:
        use_shop(fixture.shop)
        cart_id = carts.cart_create()
        for variant in rng.sample(fixture.variants, 2):
            carts.cart_item_add(cart_id, variant_id=variant, quantity=1, currency="EUR")
        use_public()
        body = {
            "cart": cart_id,
            "email": "inprocess@bench.example",
            "shipping_address": ADDRESS,
            "payment_method": {"provider": "test", "card_number": CARD},
        }
        wall, cpu = time.perf_counter(), time.process_time()
        queries = CaptureQueriesContext(connection)
        with queries if capture else nullcontext():
            response = client.post(
                f"{STOREFRONT}/checkout",
                data=json.dumps(body),
                content_type="application/json",
                HTTP_HOST=fixture.host,
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if response.status_code != 201:
            raise RuntimeError(
                f"in-process checkout answered {response.status_code}: {response.content[:300]!r}"
            )
        return wall, cpu, [q["sql"] for q in queries.captured_queries] if capture else []

    one(False)  # imports, host cache, connection
    _, _, statements = one(True)
    timings = [one(False) for _ in range(rounds)]
    tables: Counter[str] = Counter()
    for sql in statements:
        match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?([a-z_]+)"?', sql, re.IGNORECASE)
        verb = sql.lstrip().split(None, 1)[0].upper()
        tables[f"{verb} {match.group(1) if match else ''}".strip()] += 1
    return InProcess(
        statements=len(statements),
        by_table=tables,
        wall_ms=statistics.median(t[0] for t in timings) * 1000,
        cpu_ms=statistics.median(t[1] for t in timings) * 1000,
        orders=rounds + 2,
    )


# --- in-process: application CPU per operation -------------------------------------------------

CART_OPERATIONS = ("cart create", "cart add", "cart view", "cart update", "cart remove")
WORKER_SHARE = "worker share"
WEBHOOK_URL = "https://hooks.invalid/storefleet-bench"  # never resolves: deliveries are queued, not sent


@dataclass
class CpuFigure:
    operation: str
    count: int
    cpu_ms: float  # median process CPU per operation (a preempted or cache-starved call skews a mean)
    wall_ms: float
    statements: int  # SQL statements of one operation (the last one captured)


def cpu_measure(fixture: Fixture, rounds: int, worker_batch: int, cprofile: bool) -> list[CpuFigure]:
    """
    Application CPU per cart operation, per checkout and per order's worker share, in this process.

    Each round is one shopper: create a cart, add three variants, view it, change
    one line, remove one, check out the other two (Django's test client, so every
    middleware and DRF runs, without HTTP or gunicorn). Every `worker_batch`
    orders the outbox dispatcher runs here as the worker runs it (the
    confirmation and owner e-mails through the file backend, one webhook
    endpoint's deliveries made and queued, the sales report's refresh queued);
    its CPU is divided among those orders. CPU is `time.process_time` of this
    process around each call: PostgreSQL's and Redis' CPU is not in it, the test
    client's own (well under 0.1 ms a request) is. With `cprofile`, each
    operation also gets a cProfile of its own, printed by `cpu_profiles_print`.
    """
    import cProfile

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenants.audit.services import Actor
    from tenants.outbox.services import events_dispatch
    from tenants.schemas import use_public, use_shop
    from tenants.webhooks.models import WebhookEndpoint
    from tenants.webhooks.services import endpoint_create

    use_shop(fixture.shop)
    if not WebhookEndpoint.objects.exists():
        endpoint_create(actor=Actor.system("perf-seed"), url=WEBHOOK_URL, events=["order.created"])
    events_dispatch(limit=10_000)  # whatever earlier runs left
    use_public()
    client = Client(HTTP_HOST=fixture.host)
    rng = random.Random(11)
    cpu: dict[str, list[float]] = {}
    wall: dict[str, list[float]] = {}
    statements: dict[str, int] = {}
    profiles: dict[str, cProfile.Profile] = {}

    def timed(operation: str, call: Callable[[], Any], *, capture: bool = False, per: int = 1) -> Any:
        queries = CaptureQueriesContext(connection)
        profile = profiles.setdefault(operation, cProfile.Profile(time.process_time)) if cprofile else None
        with queries if capture else nullcontext():
            if profile is not None:
                profile.enable()
            w, c = time.perf_counter(), time.process_time()
            result = call()
            c, w = time.process_time() - c, time.perf_counter() - w
            if profile is not None:
                profile.disable()
        cpu.setdefault(operation, []).extend([c / per] * per)
        wall.setdefault(operation, []).extend([w / per] * per)
        if capture:
            statements[operation] = len(queries.captured_queries)
        return result

    def api(operation: str, method: str, path: str, body: Any = None, *, expect: int, **extra: str) -> Any:
        def call() -> Any:
            data = json.dumps(body) if body is not None else None
            return getattr(client, method)(
                f"{STOREFRONT}/{path}", data=data, content_type="application/json", **extra
            )

        response = timed(operation, call, capture=capture)
        if response.status_code != expect:
            raise RuntimeError(f"{operation} answered {response.status_code}: {response.content[:300]!r}")
        return response.json()

    pending = 0
    # Round 0 warms imports, caches and connections; round 1 counts the SQL (capturing costs CPU);
    # neither is timed.
    for round_number in range(rounds + 2):
        capture = round_number == 1
        cart = api("cart create", "post", "carts", expect=201)["id"]
        first, second, third = rng.sample(fixture.variants, 3)
        for variant in (first, second, third):
            api("cart add", "post", f"carts/{cart}/items", {"variant": variant, "quantity": 1}, expect=201)
        api("cart view", "get", f"carts/{cart}", expect=200)
        api("cart update", "patch", f"carts/{cart}/items/{first}", {"quantity": 2}, expect=200)
        api("cart remove", "delete", f"carts/{cart}/items/{third}", expect=200)
        body = {
            "cart": cart,
            "email": f"cpu{round_number}@bench.example",
            "shipping_address": ADDRESS,
            "payment_method": {"provider": "test", "card_number": CARD},
        }
        api("checkout", "post", "checkout", body, expect=201, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        pending += 1
        if pending == worker_batch or round_number <= 1 or round_number == rounds + 1:
            use_shop(fixture.shop)
            done = timed(WORKER_SHARE, lambda: events_dispatch(limit=10_000), capture=capture, per=pending)
            use_public()
            if done < pending:
                raise RuntimeError(f"the dispatcher handled {done} events for {pending} orders")
            pending = 0
        if round_number <= 1:
            cpu.clear()
            wall.clear()
            profiles.clear()
    if cprofile:
        cpu_profiles_print(profiles)
    return [
        CpuFigure(
            operation=operation,
            count=len(cpu[operation]),
            cpu_ms=statistics.median(cpu[operation]) * 1000,
            wall_ms=statistics.median(wall[operation]) * 1000,
            statements=statements.get(operation, 0),
        )
        for operation in (*CART_OPERATIONS, "checkout", WORKER_SHARE)
    ]


def cpu_profiles_print(profiles: dict[str, Any], top: int = 24) -> None:
    """Each operation's functions by their own time, then ours by cumulative time."""
    import pstats

    for operation, profile in profiles.items():
        stats = pstats.Stats(profile)
        print(f"\ncProfile, {operation} (all rounds; tottime = own time, cumtime = with callees):")
        entries = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)
        total = sum(entry[1][2] for entry in entries) or 1.0
        for (path, line, name), (_, ncalls, tottime, cumtime, _) in entries[:top]:
            where = short_frame(f"{name} ({path}:{line})")
            print(f"  {tottime / total:6.1%} own {cumtime / total:6.1%} cum  x{ncalls:<6} {where}")
        ours = [
            item
            for item in stats.stats.items()
            if any(f"/{package}/" in item[0][0] for package in OUR_PACKAGES) and "/.venv/" not in item[0][0]
        ]
        ours.sort(key=lambda item: item[1][3], reverse=True)
        print("  ours by cumulative time:")
        for (path, line, name), (_, ncalls, tottime, cumtime, _) in ours[:top]:
            where = short_frame(f"{name} ({path}:{line})")
            print(f"  {tottime / total:6.1%} own {cumtime / total:6.1%} cum  x{ncalls:<6} {where}")


def cpu_report(figures: list[CpuFigure], worker_batch: int) -> None:
    targets = {operation: 2.0 for operation in CART_OPERATIONS} | {"checkout": 8.0, WORKER_SHARE: 5.0}
    print(
        f"\nApplication CPU in process (median time.process_time of this process; Django's test client; "
        f"worker share: the outbox dispatcher every {worker_batch} order(s)):"
    )
    print(f"{'operation':<14} {'n':>5} {'CPU ms':>8} {'wall ms':>8} {'SQL':>4} {'target ms':>10}")
    for figure in figures:
        target = targets[figure.operation]
        mark = "met" if figure.cpu_ms <= target else "MISSED"
        print(
            f"{figure.operation:<14} {figure.count:>5} {figure.cpu_ms:>8.2f} {figure.wall_ms:>8.2f} "
            f"{figure.statements:>4} {target:>6.0f} {mark}"
        )


# --- profiling --------------------------------------------------------------------------------


@dataclass
class Profile:
    label: str
    processes: int
    samples: int
    seconds: float
    rps: float
    self_time: list[tuple[str, int]]
    libraries: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]
    raw_paths: list[Path]


INCLUSIVE_FRAMES = {
    "the request (django/core/handlers/base.py)": re.compile(r"django/core/handlers/base\.py"),
    "SQL (psycopg execute and wait)": re.compile(r"^\S+ \(psycopg/"),
    "idempotency (claim and store)": re.compile(r"tenants/conventions/idempotency\.py"),
    "order_place (the checkout service)": re.compile(r"^order_place \(orders/services\.py"),
    "stock_reserve": re.compile(r"^stock_reserve \("),
    "authentication (tenants/api/auth.py)": re.compile(r"tenants/api/auth\.py"),
    "DRF serializers": re.compile(r"rest_framework/serializers\.py"),
    "Redis (carts, cache, broker)": re.compile(r"^\S+ \(redis/"),
    "Celery apply_async (queueing events)": re.compile(r"celery/app/task\.py"),
    "gunicorn access log": re.compile(r"gunicorn/glogging\.py"),
    "outbox dispatch (a batch's handlers)": re.compile(r"^events_dispatch \("),
    "order e-mails (render and send)": re.compile(r"orders/emails\.py"),
    "template rendering": re.compile(r"django/template/"),
    "webhooks handler": re.compile(r"tenants/webhooks/"),
    "sales report refresh": re.compile(r"orders/reports\.py"),
    "Celery/kombu machinery": re.compile(r"^\S+ \((celery|kombu|billiard)/"),
}

OUR_PACKAGES = ("orders", "catalog", "tenants", "config", "billing")


def short_frame(frame: str) -> str:
    """`function (path:line)` with the path relative to the repository or to site-packages."""
    frame = frame.replace(f"({REPO_ROOT}/", "(")
    return re.sub(r"\(/\S*?/(?:site|dist)-packages/", "(", frame)


def library_of(frame: str) -> str:
    """The package a frame's code belongs to: ours by app, others by top-level package."""
    match = re.search(r"\(([^)]*?)(?::\d+)?\)$", frame)
    path = match.group(1) if match else frame
    top = path.split("/")[0]
    if top in OUR_PACKAGES:
        return f"storefleet ({top})"
    if path.startswith("/") or "python3." in path:
        return "python (stdlib)"
    return top.removesuffix(".py")


def py_spy_path() -> str | None:
    local = REPO_ROOT / ".venv/bin/py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile_parse(label: str, paths: list[Path], seconds: float, rps: float) -> Profile | None:
    """Sum py-spy's raw (collapsed) stacks: self time per function and library, inclusive time per frame."""
    self_time: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            frames = [short_frame(f.strip()) for f in stack.split(";") if f.strip()]
            if not frames:
                continue
            count = int(count_text)
            total += count
            self_time[frames[-1]] += count
            libraries[library_of(frames[-1])] += count
            for name, pattern in INCLUSIVE_FRAMES.items():
                if any(pattern.search(frame) for frame in frames):
                    inclusive[name] += count
    if not total:
        return None
    return Profile(
        label=label,
        processes=len(paths),
        samples=total,
        seconds=seconds,
        rps=rps,
        self_time=self_time.most_common(15),
        libraries=libraries.most_common(10),
        inclusive=sorted(inclusive.items(), key=lambda item: -item[1]),
        raw_paths=paths,
    )


def profile_run(
    fixture: Fixture,
    port: int,
    servers: list[Server],
    concurrency: int,
    seconds: int,
    workdir: Path,
) -> tuple[list[Profile], list[int]]:
    """
    Sample the children of each server (gunicorn's workers, the Celery pool) with
    py-spy under load, skipping threads py-spy sees idle; return the profiles and
    the orders placed.
    """
    py_spy = py_spy_path()
    if not py_spy:
        print("py-spy not installed (.venv/bin/pip install py-spy); no profile", file=sys.stderr)
        return [], []
    shoppers = [Shopper(n, port, fixture.host, fixture.variants, None) for n in range(concurrency)]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in shoppers]
    for thread in threads:
        thread.start()
    time.sleep(2)
    targets = [
        (server, pid, workdir / f"py-spy-{server.name.replace(' ', '-')}-{pid}.txt")
        for server in servers
        for pid in server.children()
    ]
    print(f"  py-spy: {seconds} s on {len(targets)} processes at {concurrency} shoppers...", file=sys.stderr)
    start = time.perf_counter()
    spies = [
        subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100"]
            + ["--format", "raw", "--nonblocking", "--output", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _server, pid, path in targets
    ]
    errors = [spy.communicate(timeout=seconds + 60)[1].decode(errors="replace") for spy in spies]
    elapsed = time.perf_counter() - start
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    orders = [number for s in shoppers for number in s.orders]
    profiles = []
    for server in servers:
        paths = [path for owner, _pid, path in targets if owner is server]
        profile = profile_parse(server.name, paths, seconds, len(orders) / elapsed)
        if profile is None:
            print(f"py-spy recorded nothing for {server.name}: {' '.join(errors)[:500]}", file=sys.stderr)
        else:
            profiles.append(profile)
    return profiles, orders


# --- report -------------------------------------------------------------------------------------


def machine_context() -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SHOW max_connections")
        max_connections = cursor.fetchone()[0]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs (load average {load}), PostgreSQL {pg_version} "
        f"(max_connections {max_connections}), Python {platform.python_version()}, "
        f"Django {django.get_version()}"
    )


def ms(values: list[float], p: int) -> str:
    return f"{percentile(values, p):.0f}" if values else "-"


def report(
    levels: list[Level],
    only: list[Level],
    in_process: InProcess | None,
    profiles: list[Profile],
    emails: bool,
    check: str,
) -> bool:
    print()
    print("Full shopper flow (create cart, add 1-3 items, check out); latency of the checkout request only:")
    print()
    print("| concurrency | checkouts/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for level in levels:
        print(level.row())
    print()
    print("| concurrency | all requests/s | shopper flow p50 ms | flow p95 ms | measured s | error kinds |")
    print("|---|---:|---:|---:|---:|---|")
    for level in levels:
        kinds = ", ".join(f"{kind} x{count}" for kind, count in level.error_kinds.most_common()) or "-"
        print(
            f"| {level.concurrency} | {level.requests / level.seconds:.1f} | {ms(level.flow_ms, 50)} "
            f"| {ms(level.flow_ms, 95)} | {level.seconds:.1f} | {kinds} |"
        )
    if only:
        print()
        print("Checkout only (carts filled beforehand, in-process), the same measure:")
        print()
        print("| concurrency | checkouts/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for level in only:
            print(level.row())

    print()
    source = "order placed_at -> confirmation e-mail sent (its SentEmail row's sent_at)"
    print(f"Order -> e-mail ({source if emails else 'no orders.emails module: not measured'}) and order ->")
    print(
        "outbox dispatched (order.created: created_at -> dispatched_at), for the orders placed in the "
        "measured window:"
    )
    print()
    print(
        "| run | concurrency | orders | e-mail p50 ms | e-mail p95 ms | dispatched p50 ms "
        "| dispatched p95 ms | worker caught up after s | not delivered |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level in levels + only:
        print(
            f"| {level.label} | {level.concurrency} | {len(level.dispatched_ms)} | {ms(level.email_ms, 50)} "
            f"| {ms(level.email_ms, 95)} | {ms(level.dispatched_ms, 50)} | {ms(level.dispatched_ms, 95)} "
            f"| {level.drain_seconds:.1f} | {level.undelivered} |"
        )

    print()
    print(f"CPU during the measured window, in cores ({os.cpu_count()}.0 = the whole machine):")
    print()
    print(
        "| run | concurrency | gunicorn | celery worker | postgres | redis | load | other | ended "
        "| machine | machine CPU ms per order | new PostgreSQL sessions per order |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level in levels + only:
        cpu = level.cpu
        ended = max(0.0, cpu["machine"] - sum(cpu[group] for group in CPU_GROUPS))
        per_order = f"{cpu['machine'] * 1000 / level.rps:.0f}" if level.rps else "-"
        sessions = f"{cpu['sessions'] / len(level.checkouts_ms):.1f}" if level.checkouts_ms else "-"
        print(
            f"| {level.label} | {level.concurrency} | {cpu['gunicorn']:.2f} | {cpu['worker']:.2f} "
            f"| {cpu['postgres']:.2f} | {cpu['redis']:.2f} | {cpu['load']:.2f} | {cpu['other']:.2f} "
            f"| {ended:.2f} | {cpu['machine']:.2f} | {per_order} | {sessions} |"
        )
    print(
        "\n(ended: CPU of processes that ended during the window, mostly PostgreSQL backends of the "
        "worker's per-task connections; machine CPU per order includes other processes' use.)"
    )
    noisy = [level for level in levels + only if level.cpu["other"] >= NOISE_CORES]
    if noisy:
        print(
            f"\nwarning: processes outside the benchmark used up to "
            f"{max(lv.cpu['other'] for lv in noisy):.2f} cores during the run; "
            "the figures understate this machine."
        )

    if in_process is not None:
        print()
        tables = ", ".join(f"{name} x{count}" for name, count in in_process.by_table.most_common())
        print(
            f"in-process (Django's handler in this process, no gunicorn, no HTTP): one checkout of 2 items "
            f"takes {in_process.wall_ms:.1f} ms ({in_process.cpu_ms:.1f} ms CPU in Python), i.e. at most "
            f"~{1000 / in_process.cpu_ms:.0f} checkouts/s per core for Django alone; {in_process.statements} "
            f"SQL statements: {tables}"
        )

    for profile in profiles:
        print()
        print(
            f"py-spy, {profile.label}: {profile.processes} processes, {profile.samples} samples of "
            f"non-idle threads at 100 Hz in {profile.seconds} s ({profile.rps:.0f} checkouts/s meanwhile; "
            "py-spy counts a thread waiting on PostgreSQL as busy):"
        )
        profile_tables(profile.self_time, profile.libraries, profile.inclusive, profile.samples)
        print(f"\nraw profiles: {', '.join(str(p) for p in profile.raw_paths)}")

    print()
    print(check)
    met = target_met(levels)
    within = [level for level in levels if level.p95 < TARGET_P95_MS]
    if within:
        best = max(within, key=lambda level: level.rps)
        detail = f"best within the p95 bound: concurrency {best.concurrency}, {best.rps:.1f} checkouts/s"
    else:
        best = max(levels, key=lambda level: level.rps)
        detail = (
            f"no level had p95 < {TARGET_P95_MS:.0f} ms; the most checkouts/s: concurrency "
            f"{best.concurrency}, {best.rps:.1f}/s"
        )
    print(
        f"target: >= {TARGET_RPS:.0f} orders/s with checkout p95 < {TARGET_P95_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'} ({detail}, p95 {best.p95:.0f} ms)"
    )
    return met


# --- the run ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="8,16,32", help="comma-separated shopper counts")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before each measurement")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument(
        "--checkout-only-concurrency",
        type=int,
        default=16,
        help="shoppers for the checkout-only run (0 skips)",
    )
    parser.add_argument(
        "--worker-concurrency", type=int, default=2, help="Celery worker processes (make run: 2)"
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=180.0, help="seconds to wait for the worker per level"
    )
    parser.add_argument(
        "--profile", choices=["auto", "always", "never"], default="auto", help="auto: if missed"
    )
    parser.add_argument("--profile-seconds", type=int, default=10)
    parser.add_argument("--profile-concurrency", type=int, default=16)
    parser.add_argument(
        "--gunicorn-env", action="append", default=[], metavar="NAME=VALUE", help="e.g. WEB_CONCURRENCY=3"
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the Celery worker, e.g. DJANGO_SETTINGS_MODULE=... (repeatable)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="its own database, dropped")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="its own Redis database, flushed")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (for inspection)")
    parser.add_argument(
        "--cpu-only",
        action="store_true",
        help="only the in-process application CPU per cart operation, checkout and worker share",
    )
    parser.add_argument("--cpu-rounds", type=int, default=300, help="shoppers for the in-process CPU figures")
    parser.add_argument(
        "--worker-batch",
        type=int,
        default=10,
        help="orders per outbox dispatch in the CPU figures (under load a dispatch takes all the orders "
        "of its OUTBOX_DISPATCH_DELAY_MS, dozens at 100 orders/s)",
    )
    parser.add_argument("--cprofile", action="store_true", help="a cProfile of each operation (CPU figures)")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error("--concurrency takes comma-separated integers")
    if not args.levels or min(args.levels) < 1 or args.products < 3:
        parser.error("give at least one concurrency >= 1 and at least 3 products")
    for item in args.gunicorn_env + args.worker_env:
        if "=" not in item:
            parser.error(f"--gunicorn-env and --worker-env take NAME=VALUE, not {item!r}")
    return args


def target_met(levels: list[Level]) -> bool:
    return any(level.rps >= TARGET_RPS and level.p95 < TARGET_P95_MS for level in levels)


def benchmark(args: argparse.Namespace, workdir: Path, config: dict[str, Any], env: dict[str, str]) -> bool:
    from django.db import connections

    fixture = shop_seed(args.products)
    eager_tasks_off()
    if args.cpu_only:
        print(machine_context())
        figures = cpu_measure(fixture, args.cpu_rounds, args.worker_batch, args.cprofile)
        cpu_report(figures, args.worker_batch)
        ok, check = oversell_check(fixture, args.cpu_rounds + 2)
        print(check)
        if not ok:
            raise SystemExit("The stock or order check failed (see above).")
        return True
    mail_dir = Path(env["EMAIL_URL"].removeprefix("file://"))
    emails = emails_expected()
    mailbox = MailBox(mail_dir) if emails else None

    server_env = {key: value for key, value in os.environ.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    server_env.update(env)
    server_env.update(dict(item.split("=", 1) for item in args.gunicorn_env))
    server_env["PORT"] = str(free_port())
    port = int(server_env["PORT"])
    print(machine_context())
    print(
        f"data: 1 shop, {args.products} products x 1 variant, stock {INITIAL_STOCK:,} each; e-mails: "
        f"{'orders.emails, file backend in ' + str(mail_dir) if emails else 'none (orders.emails missing)'}; "
        f"Celery worker: --concurrency {args.worker_concurrency}"
    )

    print("starting the Celery worker and gunicorn...", file=sys.stderr)
    sessions = PgSessions(config)
    worker_env = {**server_env, **dict(item.split("=", 1) for item in args.worker_env)}
    worker = worker_start(worker_env, workdir, args.worker_concurrency)
    gunicorn: Server | None = None
    levels: list[Level] = []
    only: list[Level] = []
    in_process: InProcess | None = None
    profiles: list[Profile] = []
    checkouts = 0  # 201 answers, to compare with the orders in the database
    try:
        gunicorn = gunicorn_start(server_env, workdir)
        time.sleep(1)  # let the master boot all its workers
        print(
            f"gunicorn: {len(gunicorn.children())} workers (config/gunicorn.py; worker class and threads as "
            f"configured, GUNICORN_THREADS={server_env.get('GUNICORN_THREADS', '-')}, "
            f"WEB_CONCURRENCY={server_env.get('WEB_CONCURRENCY', '-')})"
        )
        print("measuring one checkout in-process...", file=sys.stderr)
        in_process = in_process_measure(fixture)
        checkouts += in_process.orders
        connections.close_all()  # this process holds no connection during the load

        def snapshot() -> CpuSnapshot:
            assert gunicorn is not None
            return cpu_snapshot(gunicorn, worker, config["NAME"], sessions)

        for concurrency in args.levels:
            level = level_run("flow", fixture, port, concurrency, args.warmup, args.duration, snapshot)
            latencies_measure(level, fixture, mailbox, args.drain_timeout)
            connections.close_all()
            checkouts += len(level.orders)
            levels.append(level)
            gunicorn.check_alive()
            worker.check_alive()
        if args.checkout_only_concurrency:
            concurrency = args.checkout_only_concurrency
            rate = max(max(level.rps for level in levels), TARGET_RPS)
            per_shopper = int(rate * 2.5 * (args.duration + args.warmup) / concurrency) + 5
            print(
                f"  filling {per_shopper * concurrency} carts in-process for checkout-only...",
                file=sys.stderr,
            )
            carts = carts_prefill(fixture, concurrency, per_shopper, seed=99)
            connections.close_all()
            level = level_run(
                "checkout only", fixture, port, concurrency, args.warmup, args.duration, snapshot, carts
            )
            latencies_measure(level, fixture, mailbox, args.drain_timeout)
            connections.close_all()
            checkouts += len(level.orders)
            only.append(level)
        if args.profile == "always" or (args.profile == "auto" and not target_met(levels)):
            profiles, placed = profile_run(
                fixture, port, [gunicorn, worker], args.profile_concurrency, args.profile_seconds, workdir
            )
            checkouts += len(placed)
            worker_drain(fixture, mailbox, placed, args.drain_timeout)
            connections.close_all()
    finally:
        print("stopping gunicorn and the worker...", file=sys.stderr)
        if gunicorn is not None:
            gunicorn.stop()
        worker.stop()
        sessions.close()
    ok, check = oversell_check(fixture, checkouts)
    met = report(levels, only, in_process, profiles, emails, check)
    print(f"\nfiles (gunicorn and worker logs, e-mails, profiles): {workdir}")
    if not ok:
        raise SystemExit("The stock or order check failed (see above).")
    return met


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = database_config(args.database_url)
    redis_database(args.redis_url)
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="storefleet-perf-checkout-"))
    mail_dir = workdir / "mail"
    mail_dir.mkdir()
    env = {**bench_environment(args.database_url, args.redis_url), "EMAIL_URL": f"file://{mail_dir}"}
    database_recreate(config)
    redis_flush(args.redis_url)
    try:
        # Eager tasks while seeding (search documents built inline); eager_tasks_off() after.
        django_setup(env, eager=True)
        benchmark(args, workdir, config, env)
    finally:
        bench_finish(config, args.redis_url, keep=args.keep)


if __name__ == "__main__":
    main()
