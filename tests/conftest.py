"""
Shared fixtures. Tests run against the real PostgreSQL (a `test_storefleet`
database pytest-django creates and drops) and the real Redis (database 15,
flushed at the end of the run).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tenants import provisioning, selectors, services
from tenants.models import IdempotencyRecord, Shop, User
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public

PASSWORD = "correct-horse-battery-staple"
TEST_POOL_SIZE = 3


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """Migrate (template included, via our migrate command) and fill a small warm pool once."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
    yield


@pytest.fixture(scope="session", autouse=True)
def _redis_test_keys() -> Iterator[None]:
    """Keep Redis tidy: this checkout's test keys start and end absent."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert settings.REDIS_URL.endswith("/15"), "tests must use their own Redis database"

    def delete_ours() -> None:
        for key in client.scan_iter(match=f"*{settings.TEST_RUN_ID}*", count=1000):
            client.delete(key)

    delete_ours()
    yield
    delete_ours()


@pytest.fixture(autouse=True)
def _fresh_request_state() -> Iterator[None]:
    """Each test starts on the public schema with no cached host lookups."""
    selectors.host_cache_clear()
    yield
    use_public()
    selectors.host_cache_clear()


@pytest.fixture(autouse=True)
def _no_refill_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Provisioning queues a pool refill on commit; tests that need it call it directly."""
    monkeypatch.setattr(services, "_warm_pool_refill_soon", lambda: None)


@dataclass
class ShopContext:
    shop: Shop
    owner: User
    host: str

    def token(self, user: User | None = None) -> str:
        return str(RefreshToken.for_user(user or self.owner).access_token)


def make_user(email: str, name: str = "") -> User:
    return services.user_signup(email=email, password=PASSWORD, name=name)


def make_shop(slug: str, owner: User | None = None, currency: str = "EUR") -> ShopContext:
    owner = owner or make_user(f"owner@{slug}.example")
    shop = services.shop_create(owner=owner, name=slug.title(), slug=slug, currency=currency)
    return ShopContext(shop=shop, owner=owner, host=f"{slug}.{settings.SHOP_BASE_DOMAIN}")


@pytest.fixture
def shop_a(db: None) -> ShopContext:
    return make_shop("alpha")


@pytest.fixture
def shop_b(db: None) -> ShopContext:
    return make_shop("bravo", currency="USD")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def committed_shop(django_db_setup: None, django_db_blocker) -> Iterator[ShopContext]:
    """
    A shop whose rows are committed, for tests where other threads or a worker
    must see it. Nothing wraps these tests in a transaction, so the fixture
    removes what it made (and the test must remove what it makes).
    """
    with django_db_blocker.unblock():
        ctx = make_shop("committed")
        try:
            yield ctx
        finally:
            use_public()
            schema = ctx.shop.schema_name
            IdempotencyRecord.objects.filter(schema_name=schema).delete()
            OutboxEvent.objects.filter(schema_name=schema).delete()
            ctx.shop.delete(force_drop=True)
            ctx.owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)  # committed sign-ups used real spares


PLATFORM = {"HTTP_HOST": settings.PLATFORM_HOST}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    """Assert an RFC 9457 problem response with `status`; return its body."""
    assert response.status_code == status, (response.status_code, response.content)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    return body  # type: ignore[no-any-return]
