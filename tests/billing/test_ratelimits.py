"""
Rate limits (docs/api.md, "Rate limits"): per shop on the Admin API, per client address
and shop on the Storefront API, counted in Redis, announced with the IETF
RateLimit headers, 429 with Retry-After over the limit, fail open without Redis.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import pytest
import redis
from django.urls import URLResolver, get_resolver
from redis.backoff import NoBackoff
from redis.retry import Retry

from billing import metering, ratelimits
from billing.api import throttles
from billing.models import Plan
from billing.periods import period_of
from billing.selectors import shop_plan, shop_plan_limits_forget
from catalog import cache
from catalog.models import Product
from tenants import keys
from tenants.api.base import AdminAPIView
from tenants.schemas import use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem, bearer
from tests.net import free_port

pytestmark = pytest.mark.django_db

POLICY = re.compile(r'^"(?P<name>\w+)";q=(?P<q>\d+);w=(?P<w>\d+)$')
STATE = re.compile(r'^"(?P<name>\w+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


class Clock:
    """The limiter's clock, held still: its windows are fixed minutes, and a test that
    straddled one would see its budget refilled halfway through."""

    def __init__(self) -> None:
        window = ratelimits.WINDOW_SECONDS
        self.now = time.time() // window * window + window / 2  # the middle of this minute

    def time(self) -> float:
        return self.now

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    held = Clock()
    monkeypatch.setattr(ratelimits, "time", held)
    return held


@pytest.fixture
def budgets(settings) -> None:
    settings.RATE_LIMIT_ADMIN_PER_MINUTE = 3
    settings.RATE_LIMIT_STOREFRONT_PER_MINUTE = 5


def _state(response) -> tuple[str, int, int]:
    match = STATE.match(response["RateLimit"])
    assert match, response["RateLimit"]
    return match["name"], int(match["r"]), int(match["t"])


def test_admin_api_announces_and_enforces_the_shop_budget(api, shop_a: ShopContext, budgets) -> None:
    admin = AdminClient(api, shop_a)
    remaining = []
    for _ in range(3):
        response = admin.get("products")
        assert response.status_code == 200
        assert response["RateLimit-Policy"] == '"admin";q=3;w=60'
        name, left, reset = _state(response)
        assert name == "admin" and 1 <= reset <= 60
        remaining.append(left)
    assert remaining == [2, 1, 0]
    refused = admin.post("products", {"title": "Over budget"})
    body = assert_problem(refused, 429)
    assert body["code"] == "rate_limited" and "3 requests" in body["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Policy"] == '"admin";q=3;w=60'
    assert _state(refused)[1] == 0
    use_shop(shop_a.shop)
    assert not Product.objects.exists()  # the refused POST created nothing


def test_one_shops_burst_leaves_another_shops_budget_alone(
    api, shop_a: ShopContext, shop_b: ShopContext, budgets
) -> None:
    burst = AdminClient(api, shop_a)
    for _ in range(4):
        burst.get("products")
    assert burst.get("products").status_code == 429
    other = AdminClient(api, shop_b)
    response = other.get("products")
    assert response.status_code == 200 and _state(response)[1] == 2
    # The storefront has its own budget, per client address.
    storefront = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    assert storefront.status_code == 200
    assert storefront["RateLimit-Policy"] == '"storefront";q=5;w=60'


def test_storefront_budget_is_per_client_address(api, shop_a: ShopContext, budgets) -> None:
    for expected in (4, 3, 2, 1, 0):
        response = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 200 and _state(response)[1] == expected
    # Cached or not, a spent budget is refused before the cache answers.
    refused = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host, REMOTE_ADDR="10.0.0.1")
    assert_problem(refused, 429)
    assert "X-Cache" not in refused
    other_client = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host, REMOTE_ADDR="10.0.0.2")
    assert other_client.status_code == 200 and other_client["X-Cache"] == "hit"
    assert _state(other_client)[1] == 4


def test_cached_storefront_answer_costs_one_redis_round_trip(api, shop_a: ShopContext, monkeypatch) -> None:
    api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host)  # fill the cache
    commands = []
    execute_command = redis.Redis.execute_command

    def recording(self, *args, **kwargs):
        commands.append(args)
        return execute_command(self, *args, **kwargs)

    def no_pipelines(self, *args, **kwargs):
        raise AssertionError("a pipeline")

    monkeypatch.setattr(redis.Redis, "execute_command", recording)
    monkeypatch.setattr(redis.client.Pipeline, "execute", no_pipelines)
    response = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host)
    assert response.status_code == 200 and response["X-Cache"] == "hit"
    assert "RateLimit" in response
    # One script: the limiter's count and the cache lookup, run together.
    assert [command[0] for command in commands] == ["EVALSHA"]
    keys = commands[0][3 : 3 + commands[0][2]]
    assert any(":ratelimit-" in key for key in keys) and any(":storefront-" in key for key in keys)


def test_admin_calls_within_budget_are_metered_for_usage(api, shop_a: ShopContext, budgets) -> None:
    admin = AdminClient(api, shop_a)
    for _ in range(5):
        admin.get("products")
    schema = shop_a.shop.schema_name
    assert metering.api_calls_in_period(schema=schema, period=period_of()) == 3  # not the 2 refused
    key = metering.api_calls_key(schema=schema, period=period_of())
    assert 0 < keys.redis_client().ttl(key) <= metering.API_CALLS_KEY_DAYS * 86400
    keys.redis_client().delete(key)


def test_requests_without_valid_credentials_spend_no_budget_and_are_not_metered(
    api, shop_a: ShopContext, shop_b: ShopContext, budgets
) -> None:
    """Knowing a shop's hostname is not enough to lock its merchant out or run up its usage."""
    credentials = [
        {},  # none
        {"HTTP_AUTHORIZATION": "Bearer not-a-token"},
        {"HTTP_AUTHORIZATION": "Api-Key sk_nonsense"},
        bearer(shop_b.token()),  # a real token, of another shop's owner
    ]
    for headers in credentials:
        for _ in range(4):  # more than the budget of 3, each
            refused = api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **headers)
            assert refused.status_code in (401, 403), refused.content
            assert "RateLimit" not in refused
    assert api.get("/api/admin/v1/no-such-thing", HTTP_HOST=shop_a.host).status_code == 404
    owner = AdminClient(api, shop_a)
    response = owner.get("products")
    assert response.status_code == 200 and _state(response) == ("admin", 2, 30)
    schema = shop_a.shop.schema_name
    assert metering.api_calls_in_period(schema=schema, period=period_of()) == 1
    keys.redis_client().delete(metering.api_calls_key(schema=schema, period=period_of()))


def _views(patterns) -> list[type]:
    views = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            views += _views(pattern.url_patterns)
        elif getattr(pattern.callback, "cls", None) is not None:
            views.append(pattern.callback.cls)
    return views


def test_every_admin_view_spends_the_shop_budget() -> None:
    """The Admin budget is counted in DRF's throttle step: a view with throttles of its own would skip it."""
    admin_views = [view for view in _views(get_resolver().url_patterns) if issubclass(view, AdminAPIView)]
    assert len(admin_views) > 20
    for view in admin_views:
        assert throttles.ShopBudgetThrottle in view.throttle_classes, view


def test_budgets_come_from_the_shops_plan(api, shop_a: ShopContext) -> None:
    plan = shop_plan(shop_a.shop)
    Plan.objects.filter(pk=plan.pk).update(api_requests_per_minute=2, storefront_requests_per_minute=7)
    shop_plan_limits_forget()
    try:
        admin = AdminClient(api, shop_a)
        assert admin.get("products")["RateLimit-Policy"] == '"admin";q=2;w=60'
        admin.get("products")
        assert_problem(admin.get("products"), 429)
        storefront = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
        assert storefront["RateLimit-Policy"] == '"storefront";q=7;w=60'
    finally:
        shop_plan_limits_forget()


def test_next_window_refills_the_budget(api, shop_a: ShopContext, budgets, clock: Clock) -> None:
    admin = AdminClient(api, shop_a)
    for _ in range(3):
        admin.get("products")
    clock.now += ratelimits.WINDOW_SECONDS / 2 - 1  # one second before the window ends
    refused = assert_problem(admin.get("products"), 429)
    assert "retry in 1 seconds" in refused["detail"]
    clock.now += 1
    response = admin.get("products")
    assert response.status_code == 200
    assert _state(response) == ("admin", 2, ratelimits.WINDOW_SECONDS)


def test_platform_api_carries_no_shop_budget(api, shop_a: ShopContext) -> None:
    response = api.get("/api/platform/v1/me", HTTP_HOST="localhost")
    assert "RateLimit" not in response


def test_redis_down_serves_and_logs(api, shop_a: ShopContext, monkeypatch, caplog, budgets) -> None:
    monkeypatch.setattr(
        keys,
        "_redis",
        redis.Redis(
            host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
        ),
    )
    monkeypatch.setattr(ratelimits, "_last_outage_log", float("-inf"))
    admin = AdminClient(api, shop_a)
    with caplog.at_level(logging.WARNING, logger="billing.ratelimits"):
        for _ in range(5):  # beyond the budget of 3: nothing counts, so nothing is refused
            assert admin.get("products").status_code == 200
        storefront = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host)
    assert storefront.status_code == 200 and "RateLimit" not in storefront
    warnings = [r for r in caplog.records if r.name == "billing.ratelimits"]
    assert len(warnings) == 1 and "fail open" in warnings[0].getMessage()  # once, not once a request


def test_scripts_unknown_to_redis_are_loaded_and_counted_once(api, shop_a: ShopContext, monkeypatch) -> None:
    """A script Redis does not know (new, or after a restart) is loaded; the others in its batch ran once."""
    first = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host)
    assert _state(first)[1] == 599
    # A cache-lookup script this Redis has never seen, batched with the (known) limiter.
    monkeypatch.setattr(cache, "_LOOKUP", keys.RedisScript(f"{cache._LOOKUP.text}-- {uuid.uuid4()}\n"))
    response = api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host)
    assert response.status_code == 200 and response["X-Cache"] == "hit"
    assert _state(response)[1] == 598  # counted once, not once per attempt
