"""What each process keeps for the request path, and how every process forgets it together."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from billing import selectors as billing_selectors
from billing.models import Plan
from tenants import process_cache, routing
from tenants.keys import host_cache_channel, redis_client
from tenants.models import Shop
from tests.conftest import ShopContext


def _eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 3
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def listening() -> None:
    process_cache.listener_start()
    assert process_cache.listening.wait(5)


def test_a_plan_edit_reaches_every_process(shop_a: ShopContext, listening: None) -> None:
    plan = billing_selectors.shop_plan(shop_a.shop)
    before = billing_selectors.shop_plan_limits(shop_a.shop).api_requests_per_minute
    # As another process would: change the row, then broadcast, leaving this process's copy alone.
    Plan.objects.filter(pk=plan.pk).update(api_requests_per_minute=before + 7)
    assert billing_selectors.shop_plan_limits(shop_a.shop).api_requests_per_minute == before  # kept
    redis_client().publish(host_cache_channel(), f"plan-limits {shop_a.shop.pk}")
    _eventually(
        lambda: billing_selectors.shop_plan_limits(shop_a.shop).api_requests_per_minute == before + 7,
        "the broadcast never reached this process's limits",
    )


def test_clearing_a_cache_reaches_every_process(shop_a: ShopContext, listening: None) -> None:
    routing.shop_for_host(shop_a.host)
    Shop.objects.filter(pk=shop_a.shop.pk).update(name="Renamed elsewhere")
    assert routing.shop_for_host(shop_a.host).name != "Renamed elsewhere"
    redis_client().publish(host_cache_channel(), "hosts *")
    _eventually(lambda: routing.shop_for_host(shop_a.host).name == "Renamed elsewhere", "never cleared")


def test_malformed_and_unknown_messages_are_ignored(shop_a: ShopContext, listening: None) -> None:
    kept = billing_selectors.shop_plan_limits(shop_a.shop)
    routing.shop_for_host(shop_a.host)
    client = redis_client()
    for message in ("plan-limits not-a-number", "no-such-cache 1", "", "plan-limits", b"\x00\xed\xb3\xbf"):
        client.publish(host_cache_channel(), message)
    client.publish(host_cache_channel(), "hosts no-such-host.example")  # a marker: all above were applied
    time.sleep(0.2)
    assert process_cache.listening.is_set(), "a bad message stopped the listener"
    Plan.objects.filter(pk=billing_selectors.shop_plan(shop_a.shop).pk).update(api_requests_per_minute=1)
    assert billing_selectors.shop_plan_limits(shop_a.shop) == kept
    assert routing.shop_for_host(shop_a.host) is not None


def test_unheard_entries_are_trusted_briefly(shop_a: ShopContext, listening: None, settings) -> None:
    """Not subscribed (Redis away), a process may miss an invalidation: it trusts answers briefly."""
    cache: process_cache.ProcessCache[str, int] = process_cache.ProcessCache(
        "test-unheard", seconds=600, size=4
    )
    cache.put("a", 1)
    settings.PROCESS_CACHE_UNHEARD_SECONDS = 0
    assert cache.get("a") == (True, 1)  # subscribed: kept for its lifetime
    process_cache.listening.clear()
    try:
        assert cache.get("a") == (False, None)  # older than the unheard bound: asked again
        settings.PROCESS_CACHE_UNHEARD_SECONDS = 60
        cache.put("b", 2)
        assert cache.get("b") == (True, 2)
    finally:
        process_cache.listening.set()


def test_the_cache_is_bounded_and_entries_expire() -> None:
    cache: process_cache.ProcessCache[str, int] = process_cache.ProcessCache(
        "test-bounded", seconds=600, size=2
    )
    for key, value in (("a", 1), ("b", 2)):
        cache.put(key, value)
    cache.get("a")  # a was used last: b goes first
    cache.put("c", 3)
    assert cache.get("b") == (False, None)
    assert cache.get("a") == (True, 1)
    cache.put("d", 4, seconds=0)
    assert cache.get("d") == (False, None)


def test_a_plan_saved_in_django_admin_is_read_again(
    admin_client, shop_a: ShopContext, listening: None, django_capture_on_commit_callbacks
) -> None:
    client = admin_client
    plan = billing_selectors.shop_plan(shop_a.shop)
    billing_selectors.shop_plan_limits(shop_a.shop)
    url = f"/admin/billing/plan/{plan.pk}/change/"
    form = client.get(url, HTTP_HOST="localhost").context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["api_requests_per_minute"] = 4321
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, HTTP_HOST="localhost")
    assert response.status_code == 302
    assert Plan.objects.get(pk=plan.pk).api_requests_per_minute == 4321
    assert billing_selectors.shop_plan_limits(shop_a.shop).api_requests_per_minute == 4321
