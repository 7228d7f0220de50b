"""
Product CSV import benchmark: a 10,000-row file (Shopify's product columns) into
an empty shop, as the worker runs it (catalog.bulk), timed and its memory measured.

Steps, each timed with `time.perf_counter`:

- upload:  `product_import_request` — read and guard the whole file, store it;
- check:   the worker's check of every row (a dry run of the same file);
- write:   the real import — check again, then write every product in one
           transaction through the catalog services (audit, events, ledger).

Peak memory is the process's peak resident set (`ru_maxrss`) before and after,
so the import's growth is the difference; with --tracemalloc, Python's own peak
allocation during the write is reported too (slower: not for the timings). The
SQL statements the import sends are counted (a connection execute wrapper) and
reported per product.

The benchmark uses a database of its own, `storefleet_csv_perf` by default: it is
dropped and recreated at the start and dropped at the end (unless --keep); only a
name ending in `_perf` is accepted. Files go to a temporary MEDIA_ROOT. Neither the
import task nor outbox wake-ups are queued (no Celery message leaves the benchmark).

Run it by hand from the repository root; pytest never collects tests/perf:

    .venv/bin/python tests/perf/csv_import.py --rows 10000
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `tests.perf` importable
    sys.path.insert(0, str(REPO_ROOT))
from tests.perf.support import (  # noqa: E402
    database_config,
    database_drop,
    database_recreate,
    django_setup,
    warm_pool_refill_disabled,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_csv_perf"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="variant rows in the file (default 10,000)")
    parser.add_argument("--variants", type=int, default=2, help="variants per product (default 2)")
    parser.add_argument("--database-url", default=os.environ.get("PERF_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's peak allocation")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args(argv)


def csv_bytes(rows: int, variants: int) -> bytes:
    """A product CSV of `rows` variant rows, `variants` to a product, in three nested categories."""
    from catalog.product_csv import COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
    writer.writeheader()
    sizes = ["S", "M", "L", "XL", "XXL"]
    for row in range(rows):
        product, variant = divmod(row, variants)
        first = variant == 0
        writer.writerow(
            {
                "Handle": f"bench-product-{product:05d}",
                "Title": f"Bench Product {product:05d}" if first else "",
                "Body (HTML)": f"<p>Product {product} of the benchmark.</p>" if first else "",
                "Type": f"Apparel > Group {product % 3}" if first else "",
                "Option1 Name": "Size",
                "Option1 Value": sizes[variant % len(sizes)] + ("" if variant < len(sizes) else str(variant)),
                "Variant SKU": f"BENCH-{product:05d}-{variant}",
                "Variant Price": f"{10 + product % 90}.{variant % 100:02d}",
                "Variant Compare At Price": f"{120 + product % 90}.00" if product % 4 == 0 else "",
                "Variant Inventory Qty": str(product % 50),
                "Status": "active" if first else "",
            }
        )
    return buffer.getvalue().encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = database_config(args.database_url)
    media = tempfile.mkdtemp(prefix="csv-perf-media-")
    env = {
        "DATABASE_URL": args.database_url,
        "MEDIA_ROOT": media,
        "PRODUCT_IMPORT_MAX_ROWS": str(max(args.rows, 50_000)),
    }
    database_recreate(config)
    try:
        django_setup(env, eager=False)
        from django.core.management import call_command
        from django.db import connection

        from catalog import bulk
        from catalog.models import Product, ProductImport, Variant
        from tenants.audit.services import Actor
        from tenants.provisioning import warm_pool_fill
        from tenants.schemas import use_shop
        from tenants.services import shop_create, user_signup

        print("migrating the benchmark database...", file=sys.stderr)
        call_command("migrate_schemas", interactive=False, verbosity=0)
        owner = user_signup(email="csv-bench@example.com", password="perf-Bench-owner-4781!", name="Bench")
        with (
            warm_pool_refill_disabled(),
            mock.patch("tenants.outbox.services.dispatch_soon", lambda **kwargs: False),
            # The benchmark runs the import itself: nothing is queued for a worker.
            mock.patch("catalog.bulk._task_queue", lambda name, job_id: None),
        ):
            warm_pool_fill(size=1)
            shop = shop_create(
                owner=owner, name="CSV Bench", slug="csv-bench", currency="EUR", plan="enterprise"
            )
            use_shop(shop)
            actor = Actor.system("csv-bench")
            data = csv_bytes(args.rows, args.variants)
            print(f"file: {args.rows} rows, {len(data) / 1e6:.2f} MB", file=sys.stderr)
            rss_before = peak_rss_mb()

            started = time.perf_counter()
            dry = bulk.product_import_request(actor=actor, filename="bench.csv", data=data, dry_run=True)
            upload_seconds = time.perf_counter() - started
            started = time.perf_counter()
            dry = bulk.product_import_run(import_id=str(dry.pk))
            check_seconds = time.perf_counter() - started
            assert dry.status == ProductImport.Status.DONE, dry.errors[:5]

            job = bulk.product_import_request(actor=actor, filename="bench.csv", data=data, dry_run=False)
            if args.tracemalloc:
                tracemalloc.start()
            statements = [0]

            def counted(execute, sql, params, many, context):
                statements[0] += 1
                return execute(sql, params, many, context)

            started = time.perf_counter()
            with connection.execute_wrapper(counted):
                job = bulk.product_import_run(import_id=str(job.pk))
            write_seconds = time.perf_counter() - started
            traced_peak = tracemalloc.get_traced_memory()[1] / 1e6 if args.tracemalloc else None
            tracemalloc.stop()
            rss_after = peak_rss_mb()
            assert job.status == ProductImport.Status.DONE, job.errors[:5]
            assert Variant.objects.count() == args.rows
            products = Product.objects.count()

        print(
            f"csv import on {platform.node()} ({os.cpu_count()} CPUs), {args.rows} rows "
            f"({products} products x {args.variants} variants):"
        )
        print(f"  upload (read, guard, store):   {upload_seconds * 1000:8.0f} ms")
        print(f"  check (dry run):               {check_seconds * 1000:8.0f} ms")
        print(
            f"  import (check + write, 1 tx):  {write_seconds * 1000:8.0f} ms"
            f"  ({args.rows / write_seconds:.0f} rows/s)"
        )
        print(
            f"  SQL statements of the import:  {statements[0]:8d}"
            f"  ({statements[0] / products:.2f} per product)"
        )
        print(
            f"  peak RSS: {rss_before:.0f} MB before, {rss_after:.0f} MB after"
            f" (+{rss_after - rss_before:.0f} MB)"
        )
        if traced_peak is not None:
            print(f"  Python peak allocation during the import: {traced_peak:.0f} MB (tracemalloc)")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
