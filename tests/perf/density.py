"""
Density benchmark: one database grown to 10,000 shops, measured as it grows.

Shops are created through the real provisioning path: the warm pool is filled
with spares cloned from the template (`tenants.provisioning.template_clone`,
several spares per transaction, in parallel processes, holding the pool lock as
`warm_pool_fill` does), then each shop is made by `tenants.services.shop_create`
(a spare renamed, the Shop row, its primary Domain and the owner's Membership),
timed one by one. Every shop is a real, migrated schema.

At each checkpoint (10, 1,000 and 10,000 shops by default) it measures, with
gunicorn started exactly as `make run` starts it (`DEBUG=0`, see
the server of tests/perf/support.py, which storefront.py uses too):

- storefront p50/p95 over a sample of shops (each seeded once with a few
  products through `product_create`), the product list with the response
  cache missed (each request asks a price ceiling no request asked before, so
  every request runs its SQL in the shop's
  schema) and the product list served from the response cache;
- the memory of the PostgreSQL backends that served gunicorn (from /proc: their
  private memory, `RssAnon`, which is where the per-backend relation and
  catalog caches live, and `VmRSS`), and of the gunicorn workers;
- catalog size on disk: a shop schema, empty and with its sample products, and
  the whole database divided by the shops;
- provisioning: cloning a spare (per spare, in one process) and `shop_create`
  (p50/p95), and shops created per second overall.

The database (`storefleet_density_perf` by default; the name must end in
`_perf`) is kept between runs, so a later run resumes growth where the last one
stopped and measures only the checkpoints not measured yet (their figures are
kept in var/density/<database>.json); `--drop` starts again from nothing.

After the last checkpoint, `--migrate` times a rolling schema change over every
shop (`manage.py migrate_schemas --parallel`, with a throwaway migration that
adds a column, from a temporary migrations module that exists only for the
run) while the storefront is under load, and reports the error rate.

Run it by hand from the repository root, under the shared lock:

    flock /work/bench.lock .venv/bin/python tests/perf/density.py
    flock /work/bench.lock .venv/bin/python tests/perf/density.py --shops 10,1000 --drop
    flock /work/bench.lock .venv/bin/python tests/perf/density.py --shops 10000 --migrate
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `tests.perf` importable
    sys.path.insert(0, str(REPO_ROOT))
from tests.perf.seeding import catalog_seed  # noqa: E402
from tests.perf.support import (  # noqa: E402
    Gunicorn,
    Load,
    bench_environment,
    database_config,
    database_drop,
    django_connections_close,
    django_setup,
    free_port,
    http_get,
    maintenance_connection,
    proc_table,
    raise_on_sigterm,
    redis_database,
    redis_flush,
    warm_pool_refill_disabled,
    wrk_done,
    wrk_start,
    zipf_sampler,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_density_perf"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
RESULTS_DIR = REPO_ROOT / "var" / "density"
SHOP_PREFIX = "d-"
OWNER_EMAIL = "owner@density.localhost"
LIST_PATH = "/api/storefront/v1/products"
SAMPLE_PRODUCTS = 5
TARGET_P95_RATIO = 1.2


# --- progress -------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr: done/total, rate and time left."""

    def __init__(self, label: str, total: int, done: int = 0) -> None:
        self.label = label
        self.total = total
        self.start_done = done
        self.done = done
        self.started = time.monotonic()
        self.last_drawn = 0.0

    def advance(self, count: int = 1, note: str = "") -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last_drawn >= 0.5 or self.done >= self.total:
            self.last_drawn = now
            self.draw(note)

    def draw(self, note: str = "") -> None:
        width = 30
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(width * share) + "." * (width - int(width * share))
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.start_done) / elapsed if elapsed else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        print(
            f"\r  {self.label} [{bar}] {self.done:,}/{self.total:,} {rate:,.1f}/s "
            f"{elapsed:,.0f} s, ~{left:,.0f} s left {note}\033[K",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        self.draw()
        print(file=sys.stderr)


# --- set-up ---------------------------------------------------------------------


def database_exists(config: dict[str, Any]) -> bool:
    with maintenance_connection(config) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
    return row is not None


def database_create(config: dict[str, Any]) -> None:
    from psycopg import sql

    with maintenance_connection(config) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def owner_get() -> Any:
    from tenants.models import User
    from tenants.services import user_signup

    owner = User.objects.filter(email=OWNER_EMAIL).first()
    if owner is None:
        owner = user_signup(email=OWNER_EMAIL, password="density-Bench-owner-5521!", name="Density Owner")
    return owner


def shop_slug(index: int) -> str:
    return f"{SHOP_PREFIX}{index:05d}"


def shops_count() -> int:
    from tenants.models import Shop

    return Shop.objects.filter(slug__startswith=SHOP_PREFIX).count()


# --- growth ---------------------------------------------------------------------


def _grow_batch(indexes: list[int], owner_id: int) -> tuple[float, list[float]]:
    """
    In a pool process: clone len(indexes) spares from the template in one
    transaction, exactly as warm_pool_fill does one by one (the parent holds
    the pool lock meanwhile), then create those shops through shop_create, which
    each claim a spare. Returns (seconds per spare, shop_create milliseconds).
    """
    import secrets

    from django.db import connection, transaction

    from tenants.models import SpareSchema, User
    from tenants.provisioning import SPARE_PREFIX, template_clone
    from tenants.services import shop_create

    start = time.perf_counter()
    with transaction.atomic():
        for _ in indexes:
            name = SPARE_PREFIX + secrets.token_hex(6)
            template_clone(name)
            SpareSchema.objects.create(schema_name=name)
    clone_seconds = (time.perf_counter() - start) / len(indexes)
    owner = User.objects.get(pk=owner_id)
    timings = []
    with warm_pool_refill_disabled():
        for index in indexes:
            start = time.perf_counter()
            shop_create(owner=owner, name=f"Density shop {index}", slug=shop_slug(index))
            timings.append((time.perf_counter() - start) * 1000)
    # What this backend cached about the new schemas is not needed again.
    connection.close()
    return clone_seconds, timings


def _pool_process_init() -> None:
    from django.db import connections

    # Forked from the parent: never use its connection (the parent closed it before forking).
    for conn in connections.all(initialized_only=True):
        conn.inc_thread_sharing()
        conn.close()
        conn.dec_thread_sharing()


@dataclass
class Growth:
    shops_before: int
    shops_after: int
    clone_ms_per_spare: list[float] = field(default_factory=list)  # in one process, per batch
    create_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False  # --grow-until came before the target

    def summary(self) -> dict[str, Any]:
        if not self.create_ms:
            return {"shops_before": self.shops_before, "shops_after": self.shops_after}
        cuts = statistics.quantiles(self.create_ms, n=100) if len(self.create_ms) > 1 else self.create_ms * 99
        return {
            "shops_before": self.shops_before,
            "shops_after": self.shops_after,
            "clone_ms_per_spare_p50": round(statistics.median(self.clone_ms_per_spare), 1),
            "shop_create_p50_ms": round(cuts[49], 1),
            "shop_create_p95_ms": round(cuts[94], 1),
            "shops_per_second": round((self.shops_after - self.shops_before) / self.seconds, 1),
        }


def grow(target: int, *, jobs: int, batch: int, deadline: float | None = None) -> Growth:
    """Create shops d-00000 ... until `target` exist: spares cloned and shops created in `jobs` processes."""
    from django.db import connections

    from tenants.models import Shop
    from tenants.provisioning import pool_lock, template_ensure

    owner = owner_get()
    existing = set(Shop.objects.filter(slug__startswith=SHOP_PREFIX).values_list("slug", flat=True))
    todo = [index for index in range(target) if shop_slug(index) not in existing]
    growth = Growth(len(existing), len(existing))
    if not todo:
        return growth
    print(
        f"growing from {len(existing):,} to {target:,} shops "
        f"({jobs} processes, {batch} spares cloned per transaction, then shop_create for each)"
    )
    template_ensure()
    connections.close_all()
    progress = Progress("shops", target, len(existing))
    started = time.perf_counter()
    with ExitStack() as stack:
        stack.enter_context(pool_lock(wait=True))
        pool = stack.enter_context(
            ProcessPoolExecutor(
                max_workers=jobs, mp_context=get_context("fork"), initializer=_pool_process_init
            )
        )
        batches = [todo[start : start + batch] for start in range(0, len(todo), batch)]
        futures = [pool.submit(_grow_batch, indexes, owner.pk) for indexes in batches]
        # Interrupted (Ctrl-C, SIGTERM): drop the batches not started; a later run resumes.
        stack.callback(lambda: [future.cancel() for future in futures])
        for future in as_completed(futures):
            if deadline is not None and time.time() > deadline and not growth.stopped:
                growth.stopped = True  # out of time: finish the batches under way, start no more
                for pending in futures:
                    pending.cancel()
            if future.cancelled():
                continue
            clone_seconds, timings = future.result()
            growth.clone_ms_per_spare.append(clone_seconds * 1000)
            growth.create_ms.extend(timings)
            progress.advance(
                len(timings), f"(clone {clone_seconds * 1000:.0f} ms, shop_create {timings[-1]:.0f} ms)"
            )
    progress.close()
    growth.seconds = time.perf_counter() - started
    growth.shops_after = shops_count()
    print(f"grown: {json.dumps(growth.summary())}")
    return growth


# --- the sample -----------------------------------------------------------------


SAMPLE_FROM = 1000


def sample_slugs(shops: int, size: int) -> list[str]:
    """
    A repeatable sample of the shops (all of them when there are fewer). It is
    drawn from the first SAMPLE_FROM shops, so larger checkpoints measure the
    same shops again: what changes is the database around them.
    """
    population = min(shops, SAMPLE_FROM)
    indexes = list(range(population))
    if population > size:
        indexes = sorted(random.Random(f"density-{population}-{size}").sample(indexes, size))
    return [shop_slug(i) for i in indexes]


def spread_slugs(shops: int, size: int) -> list[str]:
    """Shops from the whole database (most without products) for the connection-budget runs."""
    indexes = list(range(shops))
    if shops > size:
        indexes = random.Random(f"spread-{shops}-{size}").sample(indexes, size)
    return [shop_slug(i) for i in indexes]


def sample_seed(slugs: list[str]) -> None:
    """Give each sampled shop a few products (through product_create), once."""
    from catalog.models import Product
    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop

    shops = list(Shop.objects.filter(slug__in=slugs))
    todo = []
    for shop in shops:
        use_shop(shop)
        if not Product.objects.exists():
            todo.append(shop)
    use_public()
    if not todo:
        return
    progress = Progress("seeding sample shops", len(todo))
    rng = random.Random(4417)
    for shop in todo:
        catalog_seed(shop, count=SAMPLE_PRODUCTS, mode="services", budget_seconds=0, rng=rng, progress="")
        progress.advance()
    progress.close()


def cold_slugs(shops: int, samples: int) -> list[str]:
    """
    The long tail: `samples` picks over every shop of the database, Zipf (s = 1)
    over a fixed random order of popularity, as a platform's visits spread.
    """
    order = list(range(shops))
    random.Random(f"cold-order-{shops}").shuffle(order)
    pick = zipf_sampler(shops, 1.0, random.Random(f"cold-picks-{shops}-{samples}"))
    return [shop_slug(order[pick()]) for _ in range(samples)]


def _cold_seed_shop(slug: str) -> str:
    from tenants.models import Shop

    catalog_seed(
        Shop.objects.get(slug=slug),
        count=SAMPLE_PRODUCTS,
        mode="bulk",
        budget_seconds=0,
        rng=random.Random(slug),
        progress="",
    )
    return slug


def cold_seed(slugs: set[str], jobs: int) -> None:
    """Give each shop the cold traffic visits the sample's few products (bulk-inserted), once."""
    from django.db import connections

    from catalog.models import Product
    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop

    todo = []
    for shop in Shop.objects.filter(slug__in=slugs).order_by("slug"):
        use_shop(shop)
        if not Product.objects.exists():
            todo.append(shop.slug)
    use_public()
    if not todo:
        return
    progress = Progress("seeding the shops of the cold traffic", len(todo))
    connections.close_all()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("fork"), initializer=_pool_process_init
    ) as pool:
        for _ in pool.map(_cold_seed_shop, todo, chunksize=8):
            progress.advance()
    progress.close()


# --- load with many hosts ---------------------------------------------------------

WRK_SCRIPT = """-- generated by tests/perf/density.py
local targets = {%(targets)s}
local uncached = %(uncached)s
local base = %(base)d
local threads = {}
counter = 0
ok, bad, hits = 0, 0, 0

function setup(thread)
  thread:set("id", #threads + 1)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local target = targets[((counter + offset) %% #targets) + 1]
  local path = target[2]
  if uncached then
    -- A price ceiling above every product's, new for each request: the same page,
    -- under a query no earlier request asked, so the response cache cannot answer it.
    local sep = string.find(path, "?", 1, true) and "&" or "?"
    path = path .. sep .. string.format(
      "max_price=%%d.%%02d", base + id * 100000 + math.floor(counter / 100), counter %% 100)
  end
  return wrk.format("GET", path, {["Host"] = target[1]})
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
  if headers["X-Cache"] == "hit" then hits = hits + 1 end
end

%(done)s"""


@dataclass(frozen=True)
class LoadResult:
    load: Load
    non_200: int

    def as_dict(self) -> dict[str, Any]:
        load = self.load
        return {
            "requests": load.requests,
            "rps": round(load.rps, 1),
            "p50_ms": round(load.p50_ms, 2),
            "p95_ms": round(load.p95_ms, 2),
            "p99_ms": round(load.p99_ms, 2),
            "socket_errors": load.errors,
            "non_200": self.non_200,
            "cache_hits": load.hits,
        }


class MultiHostLoad:
    """wrk over (host, path) pairs: every request may go to another shop."""

    def __init__(self, port: int, threads: int, connections: int, workdir: Path) -> None:
        import shutil

        self.wrk = shutil.which("wrk")
        if self.wrk is None:
            raise SystemExit("This benchmark needs wrk: apt-get install -y wrk")
        self.port = port
        self.threads = threads
        self.connections = connections
        self.workdir = workdir
        self.runs = 0

    def start(
        self, targets: list[tuple[str, str]], uncached: bool, seconds: float
    ) -> Callable[[], LoadResult]:
        self.runs += 1
        run_id = f"r{self.runs}x{os.getpid()}x{time.monotonic_ns()}"
        script = self.workdir / f"wrk-{run_id}.lua"
        script.write_text(
            WRK_SCRIPT
            % {
                "targets": ", ".join(f"{{{json.dumps(h)}, {json.dumps(p)}}}" for h, p in targets),
                "uncached": "true" if uncached else "false",
                # Unique across runs and load generators: a repeated ceiling would be a cache hit.
                "base": 100_000 + self.runs * 1_000_000 + random.randrange(500_000),
                # Non-200 answers are counted as `bad`, not as errors.
                "done": wrk_done(("ok", "bad", "hits"), status_errors=False),
            }
        )
        wrk_wait = wrk_start(
            wrk=self.wrk,
            threads=self.threads,
            connections=self.connections,
            seconds=seconds,
            script=script,
            port=self.port,
        )

        def wait() -> LoadResult:
            data = wrk_wait()
            return LoadResult(Load.from_wrk(data), data["bad"])

        return wait

    def run(self, targets: list[tuple[str, str]], uncached: bool, seconds: float) -> LoadResult:
        return self.start(targets, uncached, seconds)()


# --- memory from /proc ------------------------------------------------------------


def proc_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and RssAnon (private memory) of a process, in kB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    except OSError:
        return {}
    return values


def backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to `database` (their process title names it)."""
    pids = []
    # "postgres: 15/main: user database 127.0.0.1(port) state" (the cluster name is optional)
    pattern = re.compile(r"^postgres: (?:[^:]+: )?\S+ (\S+) (?:\d|\[local\])")
    for pid, info in proc_table().items():
        match = pattern.match(info.cmdline)
        if match and match.group(1) == database:
            pids.append(pid)
    return pids


def memory_figures(server: Gunicorn) -> dict[str, Any]:
    backends = [proc_memory_kb(pid) for pid in backend_pids(server.database)]
    backends = [b for b in backends if b]
    workers = [proc_memory_kb(pid) for pid in server.worker_pids()]
    workers = [w for w in workers if w]

    def mb(values: list[int]) -> float:
        return round(max(values) / 1024, 1) if values else 0.0

    return {
        "backends": len(backends),
        "backend_anon_max_mb": mb([b.get("RssAnon", 0) for b in backends]),
        "backend_rss_max_mb": mb([b.get("VmRSS", 0) for b in backends]),
        "workers": len(workers),
        "worker_rss_max_mb": mb([w.get("VmRSS", 0) for w in workers]),
    }


# --- sizes ----------------------------------------------------------------------

SCHEMA_SIZE_SQL = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'm', 'S')
"""


def size_figures(shops: int, seeded_slug: str, empty_slug: str | None) -> dict[str, Any]:
    from django.db import connection

    from tenants.models import Shop

    def schema_name_for_slug(slug: str) -> str:
        return str(Shop.objects.get(slug=slug).schema_name)  # a shop's schema has a random suffix

    with connection.cursor() as cursor:
        cursor.execute(SCHEMA_SIZE_SQL, [schema_name_for_slug(seeded_slug)])
        seeded = cursor.fetchone()[0]
        empty = None
        if empty_slug:
            cursor.execute(SCHEMA_SIZE_SQL, [schema_name_for_slug(empty_slug)])
            empty = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class")
        relations = cursor.fetchone()[0]
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'"
        )
        catalog = cursor.fetchone()[0]
    return {
        "schema_empty_kb": round(empty / 1024) if empty is not None else None,
        "schema_seeded_kb": round(seeded / 1024),
        "database_mb": round(database / 2**20),
        "database_per_shop_kb": round(database / 1024 / shops),
        "pg_class_rows": relations,
        "system_catalog_mb": round(catalog / 2**20),
    }


# --- one checkpoint ---------------------------------------------------------------


def checkpoint_measure(args: argparse.Namespace, shops: int, growth: Growth, workdir: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connections

    slugs = sample_slugs(shops, args.sample)
    sample_seed(slugs)
    empty = next((shop_slug(i) for i in range(shops) if shop_slug(i) not in set(slugs)), None)
    sizes = size_figures(shops, slugs[0], empty)
    connections.close_all()
    hosts = [f"{slug}.{settings.SHOP_BASE_DOMAIN}" for slug in slugs]
    targets = [(host, LIST_PATH) for host in hosts]
    cold_picks = cold_slugs(shops, args.cold_samples)
    cold_seed(set(cold_picks), args.jobs)
    cold_targets = [(f"{slug}.{settings.SHOP_BASE_DOMAIN}", LIST_PATH) for slug in cold_picks]

    server = server_for(args, workdir, str(shops), {})
    load = MultiHostLoad(server.port, args.threads, args.connections, workdir)
    print(f"checkpoint {shops:,} shops: {len(hosts)} sampled; starting gunicorn (log {server.log_path})")
    server.start()
    figures: dict[str, Any] = {"shops": shops, "sample": len(hosts), "sizes": sizes}
    try:
        for host in hosts[:3]:
            status, _headers, body = http_get(server.port, host, LIST_PATH)
            if status != 200 or not json.loads(body).get("results"):
                raise RuntimeError(f"GET {host}{LIST_PATH} answered {status}: {body[:300]!r}")
        # Warm up: every worker's connection visits the sample (as a long-running server's would).
        load.run(targets, uncached=True, seconds=args.warmup)
        uncached = load.run(targets, uncached=True, seconds=args.duration)
        figures["uncached"] = uncached.as_dict()
        print(f"  list, uncached, {len(hosts)} shops: {json.dumps(figures['uncached'])}")
        figures["memory"] = memory_figures(server)
        print(f"  memory after the uncached load: {json.dumps(figures['memory'])}")
        cold = load.run(cold_targets, uncached=True, seconds=args.duration)
        figures["cold"] = {**cold.as_dict(), "shops_visited": len(set(cold_targets))}
        print(f"  list, cold over all {shops:,} shops (Zipf): {json.dumps(figures['cold'])}")
        figures["memory_after_cold"] = memory_figures(server)
        for host, path in targets:  # one miss per shop fills its cache entry
            http_get(server.port, host, path)
        cached = load.run(targets, uncached=False, seconds=args.duration)
        figures["cached"] = cached.as_dict()
        print(f"  list, cached, {len(hosts)} shops: {json.dumps(figures['cached'])}")
        figures["memory_after_cached"] = memory_figures(server)
        figures["worker_boots"] = server.boots()
    finally:
        server.stop()
    if args.spread and shops > args.sample:
        figures["spread"] = spread_measure(args, shops, workdir)
    figures["provisioning"] = growth.summary()
    figures["gunicorn_env"] = args.gunicorn_env
    figures["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print(f"  sizes: {json.dumps(sizes)}")
    print(f"  provisioning: {json.dumps(figures['provisioning'])}")
    return figures


def server_for(args: argparse.Namespace, workdir: Path, label: str, extra: dict[str, str]) -> Gunicorn:
    env = {key: value for key, value in os.environ.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(bench_environment(args.database_url, args.redis_url))
    env.update(dict(item.split("=", 1) for item in args.gunicorn_env))
    env.update(extra)
    env["PORT"] = str(free_port())
    env["GUNICORN_ACCESS_LOG"] = ""  # the load is measured, not logged
    return Gunicorn(env, workdir / f"gunicorn-{label}.log")


def spread_measure(args: argparse.Namespace, shops: int, workdir: Path) -> dict[str, Any]:
    """
    Uncached requests spread over `--spread` shops of the whole database, with the
    connection budget off (DB_CONN_MAX_SCHEMAS=0) and on (--spread-budget): how
    big the backends grow, and what recycling costs in latency.
    """
    from django.conf import settings

    hosts = [f"{slug}.{settings.SHOP_BASE_DOMAIN}" for slug in spread_slugs(shops, args.spread)]
    targets = [(host, LIST_PATH) for host in hosts]
    results: dict[str, Any] = {"shops": len(hosts), "seconds": args.spread_seconds}
    for label, budget in (("budget off", "0"), (f"budget {args.spread_budget}", str(args.spread_budget))):
        server = server_for(args, workdir, f"spread-{shops}-{budget}", {"DB_CONN_MAX_SCHEMAS": budget})
        load = MultiHostLoad(server.port, args.threads, args.connections, workdir)
        server.start()
        try:
            run = load.run(targets, uncached=True, seconds=args.spread_seconds)
            results[label] = {**run.as_dict(), "memory": memory_figures(server)}
        finally:
            server.stop()
        print(f"  spread over {len(hosts)} shops, {label}: {json.dumps(results[label])}")
    return results


# --- a rolling migration under load ------------------------------------------------

PROBE_MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "{leaf}")]
    operations = [migrations.AddField("product", "{column}", models.IntegerField(null=True))]
"""


def probe_settings(workdir: Path, stamp: str) -> tuple[str, str, str]:
    """
    A settings module (in `workdir`) that adds one migration to the catalog app
    from a copy of its migrations package: the "new release" the rolling
    migration ships, while gunicorn keeps running the current code. Returns
    (settings module, migration name, column).
    """
    import shutil

    source = REPO_ROOT / "catalog" / "migrations"
    leaf = sorted(path.stem for path in source.glob("0*.py"))[-1]
    package = f"density_probe_{stamp}"
    shutil.copytree(source, workdir / package)
    name, column = f"9001_density_probe_{stamp}", f"density_probe_{stamp}"
    (workdir / package / f"{name}.py").write_text(PROBE_MIGRATION.format(leaf=leaf, column=column))
    module = f"density_settings_{stamp}"
    # config.settings run as this module's own code: importing it would import the
    # `config` package, whose Celery app reads the settings being defined.
    settings_file = REPO_ROOT / "config" / "settings.py"
    (workdir / f"{module}.py").write_text(
        f"__file__ = {str(settings_file)!r}\n"
        "exec(compile(open(__file__).read(), __file__, 'exec'))\n"
        f"MIGRATION_MODULES = {{'catalog': {package!r}}}\n"
    )
    return module, name, column


def migration_run(
    args: argparse.Namespace, workdir: Path, settings_module: str, extra: list[str], log_name: str
) -> tuple[subprocess.Popen[bytes], float, Path]:
    """Start `manage.py migrate_schemas` with the probe's settings; its output goes to `log_name`."""
    env = {key: value for key, value in os.environ.items() if key != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(bench_environment(args.database_url, args.redis_url))
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env["PYTHONPATH"] = f"{workdir}:{REPO_ROOT}"
    command = [
        ".venv/bin/python",
        "manage.py",
        "migrate_schemas",
        "--noinput",
        f"--parallel={args.migrate_jobs}",
        *extra,
    ]
    log = workdir / log_name
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, start, log


def summary_line(output: str) -> str:
    """The command's closing "Shops: ..." line, or the end of its output when it failed."""
    lines = output.splitlines()
    return next((line for line in reversed(lines) if line.startswith("Shops:")), "\n".join(lines[-8:]))


def migration_benchmark(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection, connections

    shops = shops_count()
    stamp = time.strftime("%H%M%S", time.gmtime())
    settings_module, name, column = probe_settings(workdir, stamp)
    hosts = [f"{slug}.{settings.SHOP_BASE_DOMAIN}" for slug in sample_slugs(shops, args.sample)]
    targets = [(host, LIST_PATH) for host in hosts]
    connections.close_all()
    server = server_for(args, workdir, "migrate", {})
    load = MultiHostLoad(server.port, args.threads, args.connections, workdir)
    print(f"rolling migration over {shops:,} shops: adds catalog_product.{column} ({name})")
    server.start()
    figures: dict[str, Any] = {"shops": shops, "migration": name, "jobs": args.migrate_jobs}
    try:
        load.run(targets, uncached=True, seconds=args.warmup)
        before = load.run(targets, uncached=True, seconds=args.duration)
        figures["storefront_before"] = before.as_dict()
        print(f"  storefront before: {json.dumps(figures['storefront_before'])}")
        process, start, log = migration_run(args, workdir, settings_module, [], f"migrate-{stamp}.log")
        slices: list[LoadResult] = []
        while process.poll() is None:
            slices.append(load.run(targets, uncached=True, seconds=10))
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
            print(f"  {time.perf_counter() - start:6.0f} s: {tail[0][:150]}", file=sys.stderr)
        seconds = time.perf_counter() - start
        output = log.read_text(errors="replace")
        figures["migrate_seconds"] = round(seconds, 1)
        figures["migrate_returncode"] = process.returncode
        figures["migrate_summary"] = summary_line(output)
        requests = sum(part.load.requests for part in slices)
        failed = sum(part.non_200 + part.load.errors for part in slices)
        figures["storefront_during"] = {
            "requests": requests,
            "failed": failed,
            "error_rate": round(failed / requests, 5) if requests else None,
            "p95_ms_worst_slice": max((part.load.p95_ms for part in slices), default=None),
            "p50_ms_median_slice": statistics.median(part.load.p50_ms for part in slices) if slices else None,
        }
        print(f"  migrate_schemas: {seconds:.0f} s, exit {process.returncode}: {figures['migrate_summary']}")
        print(f"  storefront during: {json.dumps(figures['storefront_during'])}")
    finally:
        server.stop()
    # Every shop has the column, exactly once recorded.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relname = 'catalog_product' AND a.attname = %s",
            [column],
        )
        figures["schemas_with_column"] = cursor.fetchone()[0]
    print(f"  schemas with the new column: {figures['schemas_with_column']:,} (shops: {shops:,})")
    # Again, with nothing to apply: from the record, then checking every shop (--restart).
    for label, extra in (("again (record)", []), ("again (--restart: check every shop)", ["--restart"])):
        process, start, log = migration_run(
            args, workdir, settings_module, extra, f"migrate-{stamp}-{label[:5]}.log"
        )
        process.wait()
        output = log.read_text(errors="replace")
        summary = next(
            (line for line in reversed(output.splitlines()) if line.startswith("Shops:")), output[-300:]
        )
        figures[label] = {"seconds": round(time.perf_counter() - start, 1), "summary": summary}
        print(f"  {label}: {json.dumps(figures[label])}")
    figures["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return figures


# --- results ----------------------------------------------------------------------


def results_path(database: str) -> Path:
    return RESULTS_DIR / f"{database}.json"


def results_load(path: Path) -> dict[str, Any]:
    if path.exists():
        return dict(json.loads(path.read_text()))
    return {"checkpoints": {}, "migrations": []}


def results_save(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


def report(results: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
    rows = sorted(results["checkpoints"].values(), key=lambda r: r["shops"])
    if not rows:
        return
    print()
    print(
        "| shops | sample | uncached p50 / p95 ms | cached p50 / p95 ms | PG backend private / RSS MB "
        "| worker RSS MB | shop schema kB (empty / seeded) | DB MB (per shop kB) | shop_create p50 / p95 ms "
        "| clone ms/spare | shops/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        u, c, m, s, p = row["uncached"], row["cached"], row["memory"], row["sizes"], row["provisioning"]
        print(
            f"| {row['shops']:,} | {row['sample']} | {u['p50_ms']:.1f} / {u['p95_ms']:.1f} "
            f"| {c['p50_ms']:.1f} / {c['p95_ms']:.1f} "
            f"| {m['backend_anon_max_mb']} / {m['backend_rss_max_mb']} "
            f"| {m['worker_rss_max_mb']} | {s['schema_empty_kb'] or '-'} / {s['schema_seeded_kb']} "
            f"| {s['database_mb']:,} ({s['database_per_shop_kb']}) "
            f"| {p.get('shop_create_p50_ms', '-')} / {p.get('shop_create_p95_ms', '-')} "
            f"| {p.get('clone_ms_per_spare_p50', '-')} | {p.get('shops_per_second', '-')} |"
        )
    cold_rows = [row for row in rows if "cold" in row]
    if cold_rows:
        print("\n| shops | cold: shops visited | req/s | p50 / p95 / p99 ms | non-200 | measured |")
        print("|---:|---:|---:|---:|---:|---|")
        for row in cold_rows:
            c = row["cold"]
            print(
                f"| {row['shops']:,} | {c['shops_visited']:,} | {c['rps']:,.0f} "
                f"| {c['p50_ms']:.1f} / {c['p95_ms']:.1f} / {c['p99_ms']:.1f} | {c['non_200']} "
                f"| {row['measured_at']} |"
            )
    if baseline:
        base = max(baseline["checkpoints"].values(), key=lambda r: r["measured_at"])
        if "cold" in base and cold_rows:
            last_cold = cold_rows[-1]
            ratio = last_cold["cold"]["p95_ms"] / base["cold"]["p95_ms"]
            verdict = "met" if ratio <= TARGET_P95_RATIO else "NOT met"
            print(
                f"\ncold p95 at {last_cold['shops']:,} shops is {ratio:.2f}x the cold p95 at "
                f"{base['shops']:,} shops ({base['measured_at']}; target <= {TARGET_P95_RATIO}x): {verdict}"
            )
    first, last = rows[0], rows[-1]
    if first is not last:
        ratio = last["uncached"]["p95_ms"] / first["uncached"]["p95_ms"]
        verdict = "met" if ratio <= TARGET_P95_RATIO else "NOT met"
        print(
            f"\nuncached p95 at {last['shops']:,} shops is {ratio:.2f}x the p95 at {first['shops']:,} "
            f"(target <= {TARGET_P95_RATIO}x): {verdict}"
        )


# --- the run --------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shops", default="10,1000,10000", help="checkpoints, comma-separated")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed at each checkpoint")
    parser.add_argument("--drop", action="store_true", help="drop the database (and results) first")
    parser.add_argument(
        "--grow-only", action="store_true", help="grow to the last checkpoint, measure nothing"
    )
    parser.add_argument("--remeasure", action="store_true", help="measure checkpoints measured before")
    parser.add_argument("--jobs", type=int, default=2, help="processes cloning spares")
    parser.add_argument("--batch", type=int, default=5, help="spares cloned per transaction")
    parser.add_argument("--sample", type=int, default=200, help="shops the load is spread over")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds of load before measuring")
    parser.add_argument(
        "--cold-samples", type=int, default=4000, help="picks of the cold traffic's Zipf over all shops"
    )
    parser.add_argument(
        "--baseline", metavar="DATABASE", help="compare the cold p95 with this database's last checkpoint"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--gunicorn-env", action="append", default=[], metavar="NAME=VALUE", help="extra gunicorn setting"
    )
    parser.add_argument(
        "--spread", type=int, default=1000, help="shops of the connection-budget runs (0: none)"
    )
    parser.add_argument("--spread-seconds", type=float, default=60.0)
    parser.add_argument("--spread-budget", type=int, default=50, help="DB_CONN_MAX_SCHEMAS of the 'on' run")
    parser.add_argument("--migrate", action="store_true", help="then time a rolling migration under load")
    parser.add_argument("--migrate-jobs", type=int, default=2)
    parser.add_argument(
        "--grow-until", metavar="HH:MM", help="UTC time to stop growing and measure where it got to"
    )
    args = parser.parse_args(argv)
    args.deadline = None
    if args.grow_until:
        hours, minutes = (int(part) for part in args.grow_until.split(":"))
        now = time.gmtime()
        day = time.mktime(time.struct_time((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0, 0, 0, 0)))
        args.deadline = day + hours * 3600 + minutes * 60 - time.timezone
    args.checkpoints = sorted({int(value.replace("_", "")) for value in args.shops.split(",")})
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = database_config(args.database_url)
    redis_database(args.redis_url)
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="storefleet-perf-density-"))
    path = results_path(config["NAME"])
    if args.drop:
        database_drop(config)
        path.unlink(missing_ok=True)
    fresh = not database_exists(config)
    if fresh:
        database_create(config)
    results = results_load(path)
    try:
        django_setup(bench_environment(args.database_url, args.redis_url), eager=True)
        from django.core.management import call_command

        if fresh:
            print("migrating the new benchmark database...", file=sys.stderr)
            call_command("migrate_schemas", interactive=False, verbosity=0)
        print(f"database {config['NAME']}: {shops_count():,} shops; results in {path}")
        for target in args.checkpoints:
            if args.grow_only and target != args.checkpoints[-1]:
                continue
            growth = grow(target, jobs=args.jobs, batch=args.batch, deadline=args.deadline)
            if growth.stopped:
                print(f"--grow-until reached at {growth.shops_after:,} shops: measuring there")
                target = growth.shops_after
            key = str(target)
            if args.grow_only or (key in results["checkpoints"] and not args.remeasure):
                continue
            redis_flush(args.redis_url)
            results["checkpoints"][key] = checkpoint_measure(args, target, growth, workdir)
            results_save(path, results)
            if growth.stopped:
                break
        if args.migrate:
            results["migrations"].append(migration_benchmark(args, workdir))
            results_save(path, results)
    finally:
        django_connections_close()
        redis_flush(args.redis_url)
    report(results, results_load(results_path(args.baseline)) if args.baseline else None)
    print(f"\nkept database {config['NAME']} (--drop starts again); files: {workdir}")
    _ = asdict  # dataclasses are kept plain for the JSON file


if __name__ == "__main__":
    main()
