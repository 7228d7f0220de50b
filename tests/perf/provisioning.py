"""
Shop provisioning benchmark: how long creating one shop takes on the request path.

Three ways of giving a new shop its schema are timed, one whole provisioning per
sample (schema, shop row, primary domain, owner membership, commit), with
`time.perf_counter`:

- warm pool:      `tenants.services.shop_create` with a pre-cloned spare in the
                  pool, which it renames (`ALTER SCHEMA ... RENAME`);
- template clone: the same call with the pool empty, so the request clones the
                  `_template` schema itself (the fallback);
- migrate:        django-tenants' default (`auto_create_schema`): save the Shop,
                  then `TenantMixin.create_schema`, i.e. CREATE SCHEMA and
                  `migrate_schemas` for that schema, then the Domain and
                  Membership rows. It is slow, so fewer shops go this way.

The target is a warm-pool p50 of 100 ms or less. After the timings, one schema
from each path is compared with a migrated one (columns, indexes, constraints,
sequences, migration records), untimed, so a fast path that builds a different
schema does not go unnoticed.

The benchmark uses a database of its own, `storefleet_perf` by default: it is
dropped and recreated at the start and dropped at the end (unless --keep), and
only a database whose name ends in `_perf` is accepted, so dev data is never
touched. No Celery message is sent (see `warm_pool_refill_disabled`).

Run it by hand from the repository root; pytest never collects tests/perf:

    .venv/bin/python tests/perf/provisioning.py --shops 50
    .venv/bin/python tests/perf/provisioning.py --shops 50 --migrate-shops 5 --keep
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenants.models import User

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `tests.perf` importable
    sys.path.insert(0, str(REPO_ROOT))
from tests.perf.support import (  # noqa: E402
    PERF_DATABASE_SUFFIX,
    database_config,
    database_drop,
    database_recreate,
    django_setup,
    warm_pool_refill_disabled,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_perf"
DEFAULT_MIGRATE_SHOPS = 20
TARGET_P50_MS = 100.0
OWNER_EMAIL = "owner@perf.localhost"

# One schema's structure as comparable text (the schema's own name is replaced
# by <schema> afterwards): columns with type, nullability, default and identity;
# indexes; constraints; sequences; and the migrations recorded as applied.
SCHEMA_FINGERPRINT_SQL = """
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'constraint ' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = con.connamespace
WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'sequence ' || c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind = 'S'
"""


@dataclass(frozen=True)
class PathResult:
    """The per-shop timings of one provisioning path, in milliseconds."""

    path: str
    timings_ms: list[float]

    def percentile(self, p: int) -> float:
        if len(self.timings_ms) == 1:
            return self.timings_ms[0]
        return statistics.quantiles(self.timings_ms, n=100, method="inclusive")[p - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.timings_ms)

    @property
    def max(self) -> float:
        return max(self.timings_ms)

    def summary(self) -> str:
        return (
            f"{self.path}: {len(self.timings_ms)} shops, p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, "
            f"mean {self.mean:.1f} ms, max {self.max:.1f} ms"
        )

    def table_row(self) -> str:
        return (
            f"| {self.path} | {len(self.timings_ms)} | {self.p50:.1f} | {self.p95:.1f} "
            f"| {self.mean:.1f} | {self.max:.1f} |"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shops", type=int, default=50, help="shops per path (warm pool, template clone)")
    parser.add_argument(
        "--migrate-shops",
        type=int,
        default=None,
        help=f"shops created by running migrations (default: min(--shops, {DEFAULT_MIGRATE_SHOPS}); 0 skips)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"its own database, dropped and recreated; the name must end in {PERF_DATABASE_SUFFIX}",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (for inspection)")
    args = parser.parse_args(argv)
    if args.shops < 1:
        parser.error("--shops must be at least 1")
    if args.migrate_shops is None:
        args.migrate_shops = min(args.shops, DEFAULT_MIGRATE_SHOPS)
    if args.migrate_shops < 0:
        parser.error("--migrate-shops cannot be negative")
    return args


# --- the database ---------------------------------------------------------------


# --- measuring ------------------------------------------------------------------


def time_each(label: str, count: int, provision: Callable[[int], object]) -> PathResult:
    """Call `provision(i)` for i in range(count), timing each call; show progress on stderr."""
    from django.db import connection

    # Each path starts on a new database session, so what an earlier phase did
    # to its session (e.g. replacing the clone_schema function once per clone,
    # which slows later clones in that session) is not charged to this one.
    connection.close()
    timings_ms: list[float] = []
    for i in range(count):
        start = time.perf_counter()
        provision(i)
        timings_ms.append((time.perf_counter() - start) * 1000)
        print(f"\r  {label}: {i + 1}/{count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    result = PathResult(label, timings_ms)
    print(result.summary())
    return result


def owner_create() -> User:
    from tenants.services import user_signup

    return user_signup(email=OWNER_EMAIL, password="perf-Bench-owner-4781!", name="Perf Owner")


def pool_fill(size: int) -> None:
    from tenants.models import SpareSchema
    from tenants.provisioning import warm_pool_fill

    start = time.perf_counter()
    added = warm_pool_fill(size=size)
    elapsed = time.perf_counter() - start
    spares = SpareSchema.objects.count()
    if spares != size:
        raise RuntimeError(f"The warm pool holds {spares} spares after filling, not {size}.")
    per_spare = elapsed * 1000 / added if added else 0.0
    print(f"warm pool filled: {added} spares in {elapsed:.1f} s ({per_spare:.0f} ms per spare, untimed)")


def pool_empty() -> None:
    """Drop any spare left in the pool, so shop_create has to clone the template."""
    from django.db import connection, transaction

    from tenants.models import SpareSchema

    with transaction.atomic():
        for spare in SpareSchema.objects.select_for_update():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(spare.schema_name)} CASCADE"
                )
            spare.delete()
    if SpareSchema.objects.exists():
        raise RuntimeError("The warm pool is not empty.")


def shop_create_by_migrating(*, owner: User, name: str, slug: str) -> None:
    """
    What django-tenants does for a Shop with `auto_create_schema = True`: save
    the row, then create the schema by running every tenant migration in it.
    """
    from django.conf import settings

    from tenants.models import Domain, Membership, Shop
    from tenants.provisioning import schema_name_for_slug

    shop = Shop(schema_name=schema_name_for_slug(slug), slug=slug, name=name)
    shop.save()
    shop.create_schema(check_if_exists=True, verbosity=0)
    Domain.objects.create(domain=f"{slug}.{settings.SHOP_BASE_DOMAIN}", tenant=shop, is_primary=True)
    Membership.objects.create(user=owner, shop=shop, role=Membership.Role.OWNER)


# --- checking -------------------------------------------------------------------


def schema_fingerprint(schema_name: str) -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SCHEMA_FINGERPRINT_SQL, {"schema": schema_name})
        rows = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(schema_name)}.django_migrations")
        rows |= {f"migration {app}.{name}" for app, name in cursor.fetchall()}
    qualifiers = (f'"{schema_name}".', f"{schema_name}.")
    for qualifier in qualifiers:
        rows = {row.replace(qualifier, "<schema>.") for row in rows}
    return rows


def schemas_compare(reference: str, others: list[str]) -> bool:
    """Print whether each schema in `others` has the same structure as `reference`; True if all do."""
    expected = schema_fingerprint(reference)
    all_match = True
    for schema_name in others:
        actual = schema_fingerprint(schema_name)
        if actual == expected:
            print(f"schema check: {schema_name} matches {reference} ({len(expected)} items)")
            continue
        all_match = False
        print(f"schema check: {schema_name} DIFFERS from {reference}")
        for line in sorted(expected - actual)[:10]:
            print(f"  only in {reference}: {line}")
        for line in sorted(actual - expected)[:10]:
            print(f"  only in {schema_name}: {line}")
    return all_match


def machine_context() -> str:
    import django
    from django.db import connection

    from tenants.provisioning import TEMPLATE_SCHEMA

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [TEMPLATE_SCHEMA])
        template_tables = cursor.fetchone()[0]
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs ({usable} usable, load average {load}), PostgreSQL {pg_version}, "
        f"Python {platform.python_version()}, Django {django.get_version()}; "
        f"template schema: {template_tables} tables"
    )


# --- the run --------------------------------------------------------------------


def benchmark(shops: int, migrate_shops: int) -> tuple[list[PathResult], bool]:
    """Time the three paths; return their results and whether they all built the same schema."""
    from django.core.management import call_command

    from tenants.models import Shop
    from tenants.provisioning import TEMPLATE_SCHEMA
    from tenants.services import shop_create

    print("migrating the benchmark database...", file=sys.stderr)
    call_command("migrate_schemas", interactive=False, verbosity=0)
    print(machine_context())
    owner = owner_create()
    results: list[PathResult] = []

    with warm_pool_refill_disabled():
        pool_fill(shops)
        results.append(
            time_each(
                "warm pool",
                shops,
                lambda i: shop_create(owner=owner, name=f"Pool shop {i}", slug=f"bench-pool-{i}"),
            )
        )

        pool_empty()
        results.append(
            time_each(
                "template clone",
                shops,
                lambda i: shop_create(owner=owner, name=f"Clone shop {i}", slug=f"bench-clone-{i}"),
            )
        )

    if migrate_shops:
        results.append(
            time_each(
                "migrate (django-tenants default)",
                migrate_shops,
                lambda i: shop_create_by_migrating(
                    owner=owner, name=f"Migrated shop {i}", slug=f"bench-migrate-{i}"
                ),
            )
        )

    def schema_of(slug: str) -> str:
        return str(Shop.objects.get(slug=slug).schema_name)  # a shop's schema has a random suffix

    reference = schema_of("bench-migrate-0") if migrate_shops else TEMPLATE_SCHEMA
    others = [schema_of("bench-pool-0"), schema_of("bench-clone-0")]
    if migrate_shops:
        others.insert(0, TEMPLATE_SCHEMA)
    return results, schemas_compare(reference, others)


def report(results: list[PathResult]) -> None:
    print()
    print("| path | shops | p50 ms | p95 ms | mean ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.table_row())
    pool = results[0]
    verdict = "met" if pool.p50 <= TARGET_P50_MS else "NOT met"
    print(f"\ntarget warm-pool p50 <= {TARGET_P50_MS:.0f} ms: {verdict} ({pool.p50:.1f} ms)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = database_config(args.database_url)
    database_recreate(config)
    try:
        # With eager tasks a refill would run inside the timed call; it is disabled anyway.
        django_setup({"DATABASE_URL": args.database_url}, eager=False)
        results, schemas_match = benchmark(args.shops, args.migrate_shops)
        report(results)
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"kept database {config['NAME']}")
        else:
            database_drop(config)
            print(f"dropped database {config['NAME']}")
    if not schemas_match:
        raise SystemExit("The provisioning paths built different schemas (see the schema check above).")


if __name__ == "__main__":
    main()
