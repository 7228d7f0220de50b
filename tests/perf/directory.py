"""
Benchmark: the shop directory's nearby query (`directory/shops?near=`) over 10,000
listed shops, in process (its target and results: the README's benchmark section).

The shops are rows of the public schema only (a `Shop` row, its primary domain
and its directory profile, bulk-inserted): the directory reads nothing else, and
`Shop` rows do not need a schema of their own (schemas come from provisioning,
never from saving a row). They are spread over Europe at random (a fixed seed),
denser around a few cities, as a directory's shops would be.

Each timed request is the view itself (`DirectoryShopListView`, through Django's
test client on the platform host): parsing, the one statement, serialising, at a
random point near one of the cities with a 25 km radius, first pages and next
pages alike; then the statement alone (the selector), to tell the query's share
from the request's. The statement's EXPLAIN (ANALYZE) is printed, to show the
GiST index.

The database (`storefleet_directory_perf` by default; the name must end in
`_perf`) is dropped and recreated at the start and dropped at the end (unless
--keep).

    .venv/bin/python tests/perf/directory.py [--shops 10000] [--requests 2000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.perf.support import database_config, database_drop, database_recreate, django_setup  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/storefleet_directory_perf"
TARGET_P95_MS = 20.0
SEED = 20
CITIES = {
    "paris": (48.8566, 2.3522),
    "berlin": (52.52, 13.405),
    "madrid": (40.4168, -3.7038),
    "milan": (45.4642, 9.19),
    "warsaw": (52.2297, 21.0122),
}
CATEGORIES = ["bakery", "books", "ceramics", "clothing", "coffee", "flowers", "gifts", "toys"]


def shops_insert(count: int, rng: random.Random) -> None:
    """`count` listed shops: two in three within ~60 km of a city, the rest anywhere in Europe."""
    from tenants.models import DirectoryProfile, Domain, Shop

    cities = list(CITIES.values())
    shops = Shop.objects.bulk_create(
        Shop(schema_name=f"dir_{index:05d}", slug=f"dir-{index:05d}", name=f"Directory shop {index}")
        for index in range(count)
    )
    Domain.objects.bulk_create(
        Domain(tenant=shop, domain=f"{shop.slug}.bench.test", is_primary=True) for shop in shops
    )
    profiles = []
    for shop in shops:
        if rng.random() < 2 / 3:
            latitude, longitude = rng.choice(cities)
            latitude += rng.gauss(0, 0.25)
            longitude += rng.gauss(0, 0.35)
        else:
            latitude, longitude = rng.uniform(36, 60), rng.uniform(-10, 30)
        profiles.append(
            DirectoryProfile(
                shop=shop,
                listed=rng.random() < 0.9,
                latitude=Decimal(f"{latitude:.6f}"),
                longitude=Decimal(f"{longitude:.6f}"),
                categories=rng.sample(CATEGORIES, rng.randint(1, 3)),
                description=f"Shop {shop.slug} sells {rng.choice(CATEGORIES)}",
            )
        )
    DirectoryProfile.objects.bulk_create(profiles, batch_size=2000)


def explain(latitude: float, longitude: float) -> str:
    from django.db import connection

    from tenants import selectors

    sql, params = selectors.directory_nearby_sql(
        latitude=latitude,
        longitude=longitude,
        radius_m=25_000,
        q=None,
        category=None,
        order_by=("distance_m", "shop_id"),
        after=None,
        offset=0,
        limit=21,
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(requests: int, rng: random.Random) -> dict[str, float]:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=settings.PLATFORM_HOST)
    cities = list(CITIES.values())
    timings: list[float] = []
    sizes: list[int] = []
    following: str | None = None
    for index in range(requests + 50):
        if following is not None and rng.random() < 0.3:
            url, following = following, None
        else:
            latitude, longitude = rng.choice(cities)
            latitude += rng.uniform(-0.2, 0.2)
            longitude += rng.uniform(-0.2, 0.2)
            query = f"near={latitude:.5f},{longitude:.5f}&radius_km=25"
            if rng.random() < 0.2:
                query += f"&category={rng.choice(CATEGORIES)}"
            url = f"/api/platform/v1/directory/shops?{query}"
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        body = json.loads(response.content)
        following = body["next"]
        if index >= 50:  # the first requests warm caches and connections
            timings.append(elapsed)
            sizes.append(len(body["results"]))
    timings.sort()
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "mean_results": round(statistics.mean(sizes), 1),
    }


def measure_query(requests: int, rng: random.Random) -> dict[str, float]:
    """The statement alone (the selector), at the same kind of points: what the view adds is the rest."""
    from tenants import selectors

    cities = list(CITIES.values())
    timings: list[float] = []
    for _ in range(requests):
        latitude, longitude = rng.choice(cities)
        start = time.perf_counter()
        selectors.directory_nearby(
            latitude=latitude + rng.uniform(-0.2, 0.2),
            longitude=longitude + rng.uniform(-0.2, 0.2),
            radius_m=25_000,
            q=None,
            category=None,
            order_by=("distance_m", "shop_id"),
            after=None,
            offset=0,
            limit=21,
        )
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "query_p50_ms": round(statistics.median(timings), 2),
        "query_p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("DIRECTORY_PERF_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--shops", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    config = database_config(args.database_url)
    database_recreate(config)
    try:
        django_setup({"DATABASE_URL": args.database_url}, eager=False)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        rng = random.Random(SEED)
        start = time.perf_counter()
        shops_insert(args.shops, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tenants_directoryprofile; ANALYZE tenants_shop; ANALYZE tenants_domain")
        print(f"{args.shops} shops inserted in {time.perf_counter() - start:.1f} s")
        figures = measure(args.requests, rng)
        figures.update(measure_query(args.requests, rng))
        # After the requests: the session's first PostGIS call (loading it) is not in the plan's times.
        print("EXPLAIN (ANALYZE) of a first page near Paris, 25 km:")
        print(explain(*CITIES["paris"]))
        figures["shops"] = args.shops
        figures["target_p95_ms"] = TARGET_P95_MS
        print(json.dumps(figures))
        verdict = "met" if figures["p95_ms"] < TARGET_P95_MS else "MISSED"
        print(f"p95 {figures['p95_ms']} ms over {figures['requests']} requests: target {verdict}")
        connection.close()
    finally:
        if not args.keep:
            database_drop(config)


if __name__ == "__main__":
    main()
