"""
Cold-path benchmark: the storefront of many long-tail shops, where most requests miss the cache.

1,000 shops of 20-200 products each (and one shop of 5,000 for search and facets)
live in a database of the benchmark's own, `storefleet_coldpath_perf`, kept between
runs: the first run takes a while to set up (shops through the warm pool's
template clone, in parallel processes, then catalogs bulk-inserted and their search
documents and renderings built); later runs reuse it (`--rebuild` starts over).

Then, one after the other:

1. In process (the primary figure on a shared machine): CPU per uncached request
   (time.process_time around Django's WSGI handler, the cache bumped before each)
   for the list, list with facets, search with facets on the 5,000-product shop,
   product page, categories and shop, in the fast form (renderings, one SQL
   statement) and the plain form (serializers), with a check that both answer the
   same.
2. Through gunicorn as `make run` starts it, with wrk:
   - cold: traffic over the shops (Zipf) and their pages (orderings and pages,
     Zipf), while a separate process makes about one merchant edit a second
     (a variant's price, through catalog.services, its event handled at once as
     a worker would), so most requests miss;
   - search, cold: the same shops, `?q=` words;
   - cached: the first page of the same shops, warmed first;
   - a bare WSGI app on the same gunicorn settings: the ceiling of HTTP alone.
   Each prints req/s, p50/p95/p99, the share of misses and CPU per request by
   process (gunicorn, the editing worker, PostgreSQL, Redis, the load generator).
3. pgbench: the page statement of a cold list and of a search, alone.
4. py-spy (`.venv/bin/pip install py-spy`) on the gunicorn workers under the cold load.

Target: cold at >= 500 req/s, p95 < 100 ms and at least half the cached rate;
search p95 < 100 ms.

Redis: database 12 by default; the benchmark never flushes it (the server is
shared), its keys are the shops' own. Run by hand from the repository root:

    .venv/bin/python tests/perf/coldpath.py                  # set up once, then measure
    .venv/bin/python tests/perf/coldpath.py --duration 10 --skip-http
    .venv/bin/python tests/perf/coldpath.py --rebuild --shops 200
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `tests.perf` importable
    sys.path.insert(0, str(REPO_ROOT))
from tests.perf import density, seeding, storefront, support  # noqa: E402
from tests.perf.support import database_config, database_drop, zipf_sampler  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_coldpath_perf"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
BIG_SHOP_SLUG = "coldpath-big"
LIST_PATH = "/api/storefront/v1/products"
ORDERINGS = ("-created", "price", "-price")
BROWSING = ("", "&in_stock=true") + tuple(
    f"&category={slug}" for slug, _name, parent, _nouns in seeding.CATEGORY_TREE if parent is None
)
TARGET_RPS = 500.0
TARGET_P95_MS = 100.0


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The smallest WSGI answer, for gunicorn's own ceiling on this machine."""
    body = b'{"ok":true}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# --- setting up (once; the database is kept) ----------------------------------------


def products_for(index: int) -> int:
    """How many products shop `index` has: 20-200, the same on every run."""
    return random.Random(index).randint(20, 200)


def _seed_shop(slug: str, count: int) -> tuple[str, int]:
    from django.db import connection

    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop

    shop = Shop.objects.get(slug=slug)
    seeding.catalog_seed(
        shop, count=count, mode="bulk", budget_seconds=0, rng=random.Random(slug), progress=""
    )
    # What autovacuum would do shortly after: plans made without statistics are not the steady state.
    use_shop(shop)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_searchdocument, catalog_product, catalog_variant, catalog_category")
    use_public()
    return slug, count


def setup(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Create what is missing: the database, the shops, their catalogs (search documents and renderings)."""
    from django.core.management import call_command
    from django.db import connection, connections

    from catalog.models import Product
    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop
    from tenants.services import shop_create

    if not density.database_exists(config):
        density.database_create(config)
        print("migrating the benchmark database...", file=sys.stderr)
        call_command("migrate_schemas", interactive=False, verbosity=0)
    density.grow(args.shops, jobs=args.jobs, batch=5)
    if not Shop.objects.filter(slug=BIG_SHOP_SLUG).exists():
        with support.warm_pool_refill_disabled():
            shop_create(owner=density.owner_get(), name="Big", slug=BIG_SHOP_SLUG, plan="enterprise")
    todo: list[tuple[str, int]] = []
    wanted = [(density.shop_slug(i), products_for(i)) for i in range(args.shops)]
    wanted.append((BIG_SHOP_SLUG, args.big_products))
    for slug, count in wanted:
        use_shop(Shop.objects.get(slug=slug))
        if not Product.objects.exists():
            todo.append((slug, count))
        use_public()
    if not todo:
        return
    print(f"seeding {len(todo)} catalogs ({args.jobs} processes)...", file=sys.stderr)
    connection.close()
    connections.close_all()
    started = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=args.jobs, mp_context=get_context("fork"), initializer=density._pool_process_init
    ) as pool:
        for done, (slug, count) in enumerate(pool.map(_seed_shop, *zip(*todo, strict=True)), 1):
            print(f"\r  {done}/{len(todo)} {slug}: {count} products", end="", file=sys.stderr, flush=True)
    print(f"\nseeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


# --- in process: CPU per uncached request --------------------------------------------


@dataclass(frozen=True)
class InProcessResult:
    label: str
    plain_ms: float
    fast_ms: float
    same: bool


def _cursor(offset: int) -> str:
    """An offset-only cursor (as DRF hands out when positions repeat): page by page without a round trip."""
    return base64.b64encode(f"o={offset}".encode()).decode()


def in_process(args: argparse.Namespace) -> list[InProcessResult]:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from catalog.cache import storefront_cache_bump
    from catalog.models import Product
    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop

    handler = WSGIHandler()
    small = Shop.objects.get(slug=density.shop_slug(0))
    mid_index = next(i for i in range(args.shops) if products_for(i) >= 150)
    mid = Shop.objects.get(slug=density.shop_slug(mid_index))
    big = Shop.objects.get(slug=BIG_SHOP_SLUG)
    use_shop(mid)
    slugs = list(Product.objects.order_by("id").values_list("slug", flat=True)[:50])
    use_public()
    host = f"{{}}.{settings.SHOP_BASE_DOMAIN}".format
    cases: list[tuple[str, Any, list[str]]] = [
        (f"list, {products_for(0)}-product shop", small, [LIST_PATH]),
        (
            f"list pages 2-5 by price, {products_for(mid_index)}-product shop",
            mid,
            [f"{LIST_PATH}?ordering=price&cursor={_cursor(20 * p)}" for p in range(1, 5)],
        ),
        (
            f"list with filters and facets, {products_for(mid_index)}-product shop",
            mid,
            [f"{LIST_PATH}?category=apparel&min_price=20.00&in_stock=true&ordering=price"],
        ),
        ("list, 5,000-product shop", big, [LIST_PATH]),
        (
            "search + facets, 5,000-product shop",
            big,
            [f"{LIST_PATH}?q={word}&in_stock=true" for word in ("linen", "walnut", "ceramic", "leather")],
        ),
        ("product page", mid, [f"{LIST_PATH}/{slug}" for slug in slugs]),
        ("categories", mid, ["/api/storefront/v1/categories"]),
        ("shop", mid, ["/api/storefront/v1/shop"]),
    ]
    results = []
    for label, shop, paths in cases:
        measured: dict[bool, float] = {}
        bodies: dict[bool, list[bytes]] = {}
        for fast in (False, True):
            settings.STOREFRONT_RENDERED_PAGES = fast
            for path in paths:  # warm: imports, host cache, connection
                storefront_cache_bump(shop.schema_name)
                storefront.wsgi_get(handler, path, host(shop.slug))
            cpu = 0.0
            bodies[fast] = []
            for i in range(args.rounds):
                path = paths[i % len(paths)]
                storefront_cache_bump(shop.schema_name)
                start = time.process_time()
                status, _headers, body = storefront.wsgi_get(handler, path, host(shop.slug))
                cpu += time.process_time() - start
                if not status.startswith("200"):
                    raise RuntimeError(f"{path} on {shop.slug}: {status} {body[:300]!r}")
                if i < len(paths):
                    bodies[fast].append(body)
            measured[fast] = cpu / args.rounds * 1000
        same = all(
            json.loads(a, object_pairs_hook=list) == json.loads(b, object_pairs_hook=list)
            for a, b in zip(bodies[False], bodies[True], strict=True)
        )
        results.append(InProcessResult(label, measured[False], measured[True], same))
        print(
            f"  in process: {label}: plain {measured[False]:.2f} ms, fast {measured[True]:.2f} ms",
            file=sys.stderr,
        )
    settings.STOREFRONT_RENDERED_PAGES = True
    use_public()
    return results


# --- through gunicorn ------------------------------------------------------------------


def shops_by_popularity(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(slug, products) of the shops, most visited first: a fixed random order, the same in every process."""
    shops = [(density.shop_slug(i), products_for(i)) for i in range(args.shops)]
    random.Random(20261204).shuffle(shops)
    return shops


def cold_targets(args: argparse.Namespace, rng: random.Random, search: bool) -> list[tuple[str, str]]:
    """(host, path) pairs: shops by Zipf over their popularity, then a page of theirs by Zipf."""
    from django.conf import settings

    shops = shops_by_popularity(args)
    pick_shop = zipf_sampler(len(shops), args.zipf_shops, rng)
    words = storefront.SEARCH_WORDS
    targets = []
    for _ in range(args.samples):
        slug, count = shops[pick_shop()]
        if search:
            path = f"{LIST_PATH}?q={words[rng.randrange(len(words))].replace(' ', '+')}"
        else:
            # The whole list first (page 1 of each ordering, then page 2 of each, ...), then
            # in stock only, then each top category: a shopper's browsing, most popular first.
            pages = [
                (browse, ordering, page)
                for browse in BROWSING
                for page in range((count + 19) // 20)
                for ordering in ORDERINGS
            ]
            browse, ordering, page = pages[zipf_sampler(len(pages), args.zipf_pages, rng)()]
            path = f"{LIST_PATH}?ordering={ordering}{browse}" + (
                f"&cursor={_cursor(20 * page)}" if page else ""
            )
        targets.append((f"{slug}.{settings.SHOP_BASE_DOMAIN}", path))
    return targets


def proc_ticks(pid: int) -> int:
    info = support.proc_table().get(pid)
    return 0 if info is None else info.own_ticks + info.children_ticks


def edit_loop(args: argparse.Namespace) -> None:
    """About `--edits-per-second` price changes, each event handled at once, as the worker would."""
    from decimal import Decimal

    from catalog.models import Variant
    from catalog.services import variant_update
    from tenants.audit.services import Actor
    from tenants.models import Shop
    from tenants.schemas import use_public, use_shop

    rng = random.Random(os.getpid())
    # Merchants of the busy shops edit more: the shop by the same Zipf as the traffic.
    by_slug = {shop.slug: shop for shop in Shop.objects.filter(slug__startswith=density.SHOP_PREFIX)}
    shops = [by_slug[slug] for slug, _count in shops_by_popularity(args)]
    pick_shop = zipf_sampler(len(shops), args.zipf_shops, rng)
    actor = Actor.system("coldpath-edits")
    interval = 1 / args.edits_per_second
    next_at = time.monotonic()
    while True:
        shop = shops[pick_shop()]
        use_shop(shop)
        variant = Variant.objects.order_by("?").first()
        if variant is not None:
            variant_update(actor=actor, variant=variant, price=Decimal(rng.randint(5, 300)) + Decimal("0.90"))
        use_public()
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


@dataclass
class HttpResult:
    label: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    miss_share: float
    non_200: int
    cpu_ms: dict[str, float]  # per request, by process group


def http_run(
    label: str,
    server: support.Gunicorn,
    load: density.MultiHostLoad,
    targets: list[tuple[str, str]],
    seconds: float,
    editor: subprocess.Popen[bytes] | None = None,
) -> HttpResult:
    database = server.database
    before = storefront.cpu_snapshot(server.pid, database)
    editor_before = proc_ticks(editor.pid) if editor else 0
    result = load.run(targets, uncached=False, seconds=seconds)
    after = storefront.cpu_snapshot(server.pid, database)
    use = storefront.CpuUse.between(before, after)
    requests = max(1, result.load.requests)
    elapsed = after.at - before.at
    cpu_ms = {
        group: use.groups[group] * elapsed * 1000 / requests
        for group in ("gunicorn", "postgres", "redis", "load")
    }
    if editor is not None:
        ticks = proc_ticks(editor.pid) - editor_before
        cpu_ms["worker (edits)"] = ticks / os.sysconf("SC_CLK_TCK") * 1000 / requests
        cpu_ms["load"] = max(0.0, cpu_ms["load"])
    cpu_ms["machine"] = use.machine * elapsed * 1000 / requests
    figures = HttpResult(
        label,
        result.load.rps,
        result.load.p50_ms,
        result.load.p95_ms,
        result.load.p99_ms,
        1 - result.load.hits / requests,
        result.non_200,
        cpu_ms,
    )
    print(
        f"  {label}: {figures.rps:,.0f} req/s, p95 {figures.p95_ms:.1f} ms, misses {figures.miss_share:.0%}",
        file=sys.stderr,
    )
    return figures


def gunicorn_env(args: argparse.Namespace, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        **support.bench_environment(args.database_url, args.redis_url),
        "PORT": str(port),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    for item in args.gunicorn_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


class BareGunicorn(support.Gunicorn):
    COMMAND = (".venv/bin/gunicorn", "-c", "config/gunicorn.py", "tests.perf.coldpath:bare_app")


def page_statement(host: str, path: str) -> str:
    """The SQL of one uncached request's rendered page, as the database received it."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from catalog.cache import storefront_cache_bump
    from tenants.schemas import current_schema, use_public

    statements: list[str] = []

    def capture(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if "catalog_searchdocument" in sql:
            statements.append(connection.ops.compose_sql(sql, params) if params else sql)
        return execute(sql, params, many, context)

    handler = WSGIHandler()
    storefront.wsgi_get(handler, path, host)
    storefront_cache_bump(current_schema())
    with connection.execute_wrapper(capture):
        storefront.wsgi_get(handler, path, host)
    use_public()
    return statements[0]


def http_phase(args: argparse.Namespace, workdir: Path) -> tuple[list[HttpResult], Any]:
    rng = random.Random(20261204)
    cold = cold_targets(args, rng, search=False)
    search = cold_targets(args, rng, search=True)
    # The cached list of the same shops: each one's first page, in the same popularity order.
    cached = [(host, LIST_PATH) for host, _ in cold]
    results: list[HttpResult] = []
    profile = None
    # Every shop starts cold (the Redis database is kept between runs, and so would the answers be).
    from catalog.cache import storefront_cache_bump
    from tenants.models import Shop

    for schema in Shop.objects.filter(slug__startswith=density.SHOP_PREFIX).values_list(
        "schema_name", flat=True
    ):
        storefront_cache_bump(schema)
    server = support.Gunicorn(gunicorn_env(args, support.free_port()), workdir / "gunicorn.log")
    editor = None
    try:
        server.start()
        load = density.MultiHostLoad(server.port, args.threads, args.connections, workdir)
        print("warming the cached list of every shop...", file=sys.stderr)
        for host in sorted({host for host, _ in cached}):
            support.http_get(server.port, host, LIST_PATH)
        # Connections, plan limits, code paths: on other samples, so the measured ones start cold.
        load.run(cold_targets(args, random.Random(1), search=False), uncached=False, seconds=3)
        editor = subprocess.Popen(
            [sys.executable, __file__, "--edit-loop", *sys.argv[1:]],
            env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "1"},
            start_new_session=True,
        )
        time.sleep(2)
        results.append(
            http_run("cold: Zipf over shops and pages, 1 edit/s", server, load, cold, args.duration, editor)
        )
        results.append(
            http_run("search, cold (?q=, Zipf over shops)", server, load, search, args.duration, editor)
        )
        editor.send_signal(signal.SIGTERM)
        editor.wait(timeout=10)
        editor = None
        for host in sorted({host for host, _ in cached}):  # edits bumped some shops
            support.http_get(server.port, host, LIST_PATH)
        results.append(http_run("cached: the same shops' first page", server, load, cached, args.duration))
        if args.profile:
            profile = profile_cold(server, load, cold, args, workdir)
    finally:
        if editor is not None:
            editor.kill()
        server.stop()
    bare = BareGunicorn(gunicorn_env(args, support.free_port()), workdir / "bare.log")
    try:
        bare.start()
        load = density.MultiHostLoad(bare.port, args.threads, args.connections, workdir)
        results.append(http_run("bare WSGI app, same gunicorn", bare, load, cached, args.duration))
    finally:
        bare.stop()
    return results, profile


def profile_cold(
    server: support.Gunicorn,
    load: density.MultiHostLoad,
    targets: list[tuple[str, str]],
    args: Any,
    workdir: Path,
) -> Any:
    py_spy = REPO_ROOT / ".venv/bin/py-spy"
    if not py_spy.exists():
        print("py-spy not found (.venv/bin/pip install py-spy); profile skipped", file=sys.stderr)
        return None
    raw = workdir / "profile-cold.txt"
    wait = load.start(targets, uncached=False, seconds=args.profile + 3)
    time.sleep(1.5)
    command = [
        str(py_spy), "record", "--pid", str(server.pid), "--subprocesses", "--nonblocking",
        "--rate", "200", "--duration", str(args.profile), "--format", "raw", "--output", str(raw),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    figures = wait()
    if completed.returncode != 0 or not raw.exists():
        print(f"py-spy failed: {completed.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    scenario = storefront.Scenario("cold", "cold (profiled)", "", [], False)
    return storefront.profile_parse(scenario, raw, figures.load.rps)


def report(
    in_proc: list[InProcessResult], http: list[HttpResult], pgbench: list[Any], profile: Any, args: Any
) -> None:
    print(f"\n## Cold path, {args.shops:,} shops of 20-200 products (+1 of {args.big_products:,})\n")
    if in_proc:
        print(
            f"In process, CPU per uncached request (time.process_time, {args.rounds} rounds; this CPU "
            f"right now: {storefront.cpu_calibration():.0f} ns per iteration of storefront.py's loop):\n"
        )
        print("| request | plain (serializers) ms | fast (renderings) ms | same answer |")
        print("|---|---:|---:|---|")
        for r in in_proc:
            print(f"| {r.label} | {r.plain_ms:.2f} | {r.fast_ms:.2f} | {'yes' if r.same else 'NO'} |")
    if http:
        groups = ["gunicorn", "worker (edits)", "postgres", "redis", "load", "machine"]
        print(
            f"\nThrough gunicorn, wrk {args.threads} threads / {args.connections} connections, "
            f"{args.duration:.0f} s each:\n"
        )
        print(
            "| scenario | req/s | p50 ms | p95 ms | p99 ms | misses | non-200 | "
            + " | ".join(f"{g} ms/req" for g in groups)
            + " |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(groups))
        for h in http:
            cpu = " | ".join(f"{h.cpu_ms[g]:.2f}" if g in h.cpu_ms else "-" for g in groups)
            print(
                f"| {h.label} | {h.rps:,.0f} | {h.p50_ms:.1f} | {h.p95_ms:.1f} | {h.p99_ms:.1f} | "
                f"{h.miss_share:.0%} | {h.non_200} | {cpu} |"
            )
        cold, search, cached = http[0], http[1], http[2]
        checks = [
            (f"cold >= {TARGET_RPS:.0f} req/s", cold.rps >= TARGET_RPS),
            (f"cold p95 < {TARGET_P95_MS:.0f} ms", cold.p95_ms < TARGET_P95_MS),
            ("cold >= half the cached rate", cold.rps >= cached.rps / 2),
            (f"search p95 < {TARGET_P95_MS:.0f} ms", search.p95_ms < TARGET_P95_MS),
        ]
        print("\nTargets: " + "; ".join(f"{label}: {'met' if ok else 'NOT met'}" for label, ok in checks))
    for result in pgbench:
        if result is not None:
            print(
                f"\npgbench, {result.label}: {result.tps:,.0f} tps, "
                f"{result.latency_ms:.2f} ms mean (4 clients)"
            )
    if profile is not None:
        total = max(1, profile.samples)
        print(
            f"\npy-spy, gunicorn under the cold load ({profile.samples} samples, {profile.rps:,.0f} req/s):"
        )
        for label, count in profile.inclusive:
            print(f"  {count * 100 / total:5.1f}%  {label}")
        print("  self time, top 12:")
        for name, count in profile.self_time[:12]:
            print(f"  {count * 100 / total:5.1f}%  {name}")
        print(
            "  by library: "
            + ", ".join(f"{area} {count * 100 / total:.0f}%" for area, count in profile.areas)
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--rebuild", action="store_true", help="Drop the kept database and set up again.")
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--big-products", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=3, help="Processes for setting up.")
    parser.add_argument("--rounds", type=int, default=300, help="In-process requests per case and form.")
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds per HTTP scenario.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--samples", type=int, default=50_000, help="(host, path) pairs wrk cycles through.")
    parser.add_argument("--zipf-shops", type=float, default=1.0)
    parser.add_argument("--zipf-pages", type=float, default=1.0)
    parser.add_argument("--edits-per-second", type=float, default=1.0)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--profile", type=int, default=10, help="Seconds of py-spy under the cold load (0: none)."
    )
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--gunicorn-env", action="append", default=[], help="KEY=VALUE for gunicorn.")
    parser.add_argument("--edit-loop", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = database_config(args.database_url)
    support.redis_database(args.redis_url)
    signal.signal(signal.SIGTERM, support.raise_on_sigterm)
    if args.rebuild and not args.edit_loop:
        database_drop(config)
    support.django_setup(support.bench_environment(args.database_url, args.redis_url), eager=True)
    if args.edit_loop:
        edit_loop(args)
        return
    setup(args, config)
    from django.conf import settings

    in_proc = [] if args.skip_in_process else in_process(args)
    http: list[HttpResult] = []
    profile = None
    pgbench: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="coldpath-") as tmp:
        workdir = Path(tmp)
        small = f"{density.shop_slug(0)}.{settings.SHOP_BASE_DOMAIN}"
        big = f"{BIG_SHOP_SLUG}.{settings.SHOP_BASE_DOMAIN}"
        for label, host, schema, path in (
            ("cold list page statement", small, density.shop_slug(0), f"{LIST_PATH}?ordering=price"),
            (
                "search + facets statement, 5,000 products",
                big,
                BIG_SHOP_SLUG,
                f"{LIST_PATH}?q=linen&in_stock=true",
            ),
        ):
            from tenants.models import Shop

            schema_name = Shop.objects.get(slug=schema).schema_name
            sql = page_statement(host, path)
            pgbench.append(
                storefront.pgbench_run(config, schema_name, label, [sql], workdir, args.pgbench_seconds)
            )
        if not args.skip_http:
            http, profile = http_phase(args, workdir)
    report(in_proc, http, pgbench, profile, args)


if __name__ == "__main__":
    main()
