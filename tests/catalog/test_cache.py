"""
The storefront cache's two tiers: bodies in Redis, and each process's copies of
the bodies it served, which Redis vouches for (by the shop's version) on every
lookup. Also the one-round-trip script runner the lookup shares with the limiter.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings

from catalog import cache
from tenants import keys, request_trip
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext

pytestmark = pytest.mark.django_db

LIST = "/api/storefront/v1/products"


@pytest.fixture
def lookups(monkeypatch) -> list[Any]:
    """Every reply of the cache-lookup script, as Redis sent it."""
    replies: list[Any] = []
    run = keys.redis_scripts_run

    def recording(calls):
        results = run(calls)
        if calls[-1][0] is cache._LOOKUP:
            replies.append(results[-1])
        return results

    monkeypatch.setattr(request_trip, "redis_scripts_run", recording)  # the lookup rides the request's trip
    return replies


def _product_create(api, shop: ShopContext, capture, title: str) -> None:
    with capture(execute=True):  # the outbox's handlers refresh search documents and bump the version
        response = AdminClient(api, shop).post(
            "products", {"title": title, "status": "active", "variants": [{"sku": title, "price": "5.00"}]}
        )
    assert response.status_code == 201, response.content


def test_a_hit_is_served_from_this_process_copy_without_the_body_crossing(
    api, shop_a: ShopContext, lookups
) -> None:
    first = api.get(LIST, HTTP_HOST=shop_a.host)
    assert first["X-Cache"] == "miss"
    second = api.get(LIST, HTTP_HOST=shop_a.host)
    assert second["X-Cache"] == "hit" and second.content == first.content
    assert second["Content-Length"] == str(len(first.content))
    # The miss's lookup found nothing; the hit's reply was the version alone: the copy is current.
    assert [len(reply) for reply in lookups] == [3, 1]
    assert lookups[0][1] is None


def test_another_process_gets_the_body_from_redis(api, shop_a: ShopContext, lookups) -> None:
    first = api.get(LIST, HTTP_HOST=shop_a.host)
    cache.copies.clear()  # as a worker that never served this path
    second = api.get(LIST, HTTP_HOST=shop_a.host)
    assert second["X-Cache"] == "hit" and second.content == first.content
    assert lookups[1][1] == first.content and 0 < lookups[1][2] <= settings.STOREFRONT_CACHE_SECONDS * 1000


def test_a_catalog_change_is_seen_by_a_process_holding_a_copy(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    api.get(LIST, HTTP_HOST=shop_a.host)
    assert api.get(LIST, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"
    _product_create(api, shop_a, django_capture_on_commit_callbacks, "Tea towel")
    response = api.get(LIST, HTTP_HOST=shop_a.host)
    assert response["X-Cache"] == "miss"
    assert [p["title"] for p in response.json()["results"]] == ["Tea towel"]


def test_a_lost_version_never_revives_an_old_copy(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    """Redis restarted (or evicted the version) after a change this process has not served yet."""
    api.get(LIST, HTTP_HOST=shop_a.host)  # this process now holds a copy of the empty list
    _product_create(api, shop_a, django_capture_on_commit_callbacks, "Tea towel")
    keys.redis_client().delete(cache._version_key(shop_a.shop.schema_name))
    response = api.get(LIST, HTTP_HOST=shop_a.host)
    assert response["X-Cache"] == "miss"
    assert [p["title"] for p in response.json()["results"]] == ["Tea towel"]


def test_a_copy_never_outlives_its_redis_entry(api, shop_a: ShopContext, settings) -> None:
    settings.STOREFRONT_CACHE_SECONDS = 1
    api.get(LIST, HTTP_HOST=shop_a.host)
    assert api.get(LIST, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"
    time.sleep(1.05)
    assert api.get(LIST, HTTP_HOST=shop_a.host)["X-Cache"] == "miss"


def test_copies_keep_to_their_byte_budget_dropping_the_least_recently_used(settings) -> None:
    settings.STOREFRONT_LOCAL_CACHE_BYTES = 8_000
    copies = cache._Copies()
    for name in ("a", "b", "c"):
        copies.put(name, "1", b"x" * 900, ttl_ms=60_000)
    assert copies.get("a") == ("1", b"x" * 900, cache.body_etag(b"x" * 900))  # a is now the most recent
    for name in ("d", "e", "f", "g", "h", "i"):
        copies.put(name, "1", b"x" * 900, ttl_ms=60_000)
    assert copies.get("b") is None and copies.get("a") is not None
    assert copies.get("i") is not None
    copies.put("big", "1", b"x" * 1_001, ttl_ms=60_000)  # over an eighth of the budget: not kept
    assert copies.get("big") is None
    copies.put("gone", "1", b"x", ttl_ms=0)
    assert copies.get("gone") is None


def test_scripts_run_together_in_one_round_trip_each_with_its_own_keys_and_args() -> None:
    client = keys.redis_client()
    echo = keys.RedisScript("return {KEYS, ARGV}")
    incr = keys.RedisScript("redis.call('INCRBY', KEYS[1], ARGV[1])")  # returns nothing
    key = f"test-scripts-{time.time_ns()}"
    try:
        results = keys.redis_scripts_run(
            [(echo, ["k1", "k2"], ["a1"]), (incr, [key], [5]), (echo, [], ["a2", "a3"])]
        )
        assert results == [[[b"k1", b"k2"], [b"a1"]], None, [[], [b"a2", b"a3"]]]
        assert client.get(key) == b"5"
    finally:
        client.delete(key)


# --- Shared caches: ETag, 304, Cache-Control ------------------------------------------------


def test_storefront_answers_carry_a_strong_etag_and_304_on_if_none_match(api, shop_a: ShopContext) -> None:
    miss = api.get(LIST, HTTP_HOST=shop_a.host)
    etag = miss["ETag"]
    assert miss["X-Cache"] == "miss" and etag.startswith('"') and not etag.startswith("W/")
    assert miss["Cache-Control"] == "public, max-age=0, s-maxage=1, stale-while-revalidate=30"
    hit = api.get(LIST, HTTP_HOST=shop_a.host)
    assert hit["X-Cache"] == "hit" and hit["ETag"] == etag and hit["Cache-Control"] == miss["Cache-Control"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        revalidated = api.get(LIST, HTTP_HOST=shop_a.host, HTTP_IF_NONE_MATCH=header)
        assert revalidated.status_code == 304, header
        assert revalidated.content == b"" and revalidated["ETag"] == etag
        assert revalidated["Cache-Control"] == miss["Cache-Control"]
    other = api.get(LIST, HTTP_HOST=shop_a.host, HTTP_IF_NONE_MATCH='"not-this-one"')
    assert other.status_code == 200 and other.content == miss.content


def test_a_change_gives_a_new_etag_and_the_old_one_no_longer_matches(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    etag = api.get(LIST, HTTP_HOST=shop_a.host)["ETag"]
    _product_create(api, shop_a, django_capture_on_commit_callbacks, "Tea towel")
    changed = api.get(LIST, HTTP_HOST=shop_a.host, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # A miss answered 304 too when the body rendered is the one the client holds.
    cache.copies.clear()
    keys.redis_client().delete(cache._version_key(shop_a.shop.schema_name))
    again = api.get(LIST, HTTP_HOST=shop_a.host, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert again.status_code == 304 and again["X-Cache"] == "miss"


def test_shared_cache_lifetimes_come_from_the_settings(api, shop_a: ShopContext, settings) -> None:
    settings.STOREFRONT_SHARED_MAX_AGE = 5
    settings.STOREFRONT_STALE_WHILE_REVALIDATE = 60
    response = api.get(LIST, HTTP_HOST=shop_a.host)
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=5, stale-while-revalidate=60"


def test_answers_that_are_not_shared_say_nothing_to_shared_caches(api, shop_a: ShopContext) -> None:
    missing = api.get(f"{LIST}/no-such-product", HTTP_HOST=shop_a.host)
    assert missing.status_code == 404 and "public" not in missing.get("Cache-Control", "")
    bad = api.get(f"{LIST}?min_price=abc", HTTP_HOST=shop_a.host)
    assert bad.status_code == 400 and "public" not in bad.get("Cache-Control", "") and "ETag" not in bad
    cart = api.post("/api/storefront/v1/carts", HTTP_HOST=shop_a.host)
    cart_body = api.get(f"/api/storefront/v1/carts/{cart.json()['id']}", HTTP_HOST=shop_a.host)
    assert cart_body.status_code == 200 and "public" not in cart_body.get("Cache-Control", "")
