"""
Shared fixtures. Tests run against the real PostgreSQL (a `test_storefleet`
database pytest-django creates and drops) and the real Redis (database 15,
flushed at the end of the run).
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from botocore.config import Config
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.test.utils import setup_databases, teardown_databases
from moto.server import ThreadedMotoServer
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from catalog.cache import copies as storefront_copies
from tenants import process_cache, provisioning, services
from tenants.conventions.problems import problem_type
from tenants.idempotency.models import IdempotencyRecord
from tenants.models import Shop, User
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public
from tests.net import free_port
from tests.redis_server import RedisServer, redis_server

PASSWORD = "correct-horse-battery-staple"
TEST_POOL_SIZE = 3


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """
    Migrate (template included, via our migrate command) and fill a small warm pool once.
    pytest-django creates only the databases that collected tests ask for (a django_db
    mark, the db fixture); `committed_shop` tests ask for none, so when they run alone
    the test database is created here, and dropped at the end.
    """
    created = None
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] != settings.DATABASES["default"]["TEST"]["NAME"]:
            created = setup_databases(verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS})
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
    yield
    if created is not None:
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)


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
    """Each test starts on the public schema with nothing kept per process (hosts, limits, copies)."""
    process_cache.clear_here_all()
    storefront_copies.clear()
    yield
    use_public()
    process_cache.clear_here_all()


@pytest.fixture(autouse=True)
def _own_redis_counters(settings) -> None:
    """
    Each test counts requests and usage afresh, wakes its outbox afresh and
    starts with an empty storefront cache: schema names repeat across tests,
    counters, flags and cached answers must not.
    """
    run = f"{settings.TEST_RUN_ID}-{uuid.uuid4().hex[:12]}"
    settings.STOREFRONT_CACHE_NAMESPACE = f"storefront-{run}"
    settings.RATE_LIMIT_NAMESPACE = f"ratelimit-{run}"
    settings.BILLING_REDIS_NAMESPACE = f"billing-{run}"
    settings.OUTBOX_REDIS_NAMESPACE = f"outbox-{run}"


@pytest.fixture(autouse=True)
def _no_refill_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Provisioning queues a pool refill on commit; tests that need it call it directly."""
    monkeypatch.setattr(services, "_warm_pool_refill_soon", lambda: None)


def committed_shop_drop(shop: Shop) -> None:
    """Remove a shop that a test committed: its rows in public, then its schema."""
    IdempotencyRecord.objects.filter(schema_name=shop.schema_name).delete()
    OutboxEvent.objects.filter(schema_name=shop.schema_name).delete()
    shop.delete(force_drop=True)


@dataclass
class ShopContext:
    shop: Shop
    owner: User
    host: str

    def token(self, user: User | None = None) -> str:
        return str(RefreshToken.for_user(user or self.owner).access_token)


def make_user(email: str, name: str = "") -> User:
    return services.user_signup(email=email, password=PASSWORD, name=name)


def _sequences_restart(schema: str) -> None:
    """
    Start the shop's id sequences afresh, as in a spare that was never used.
    Sequences ignore rollbacks, so a spare that served an earlier (rolled back)
    test would otherwise number this shop's first order 1003, not 1001. Not the
    migration record's: a new shop's django_migrations has its rows already, and a
    later migration run would collide with them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(format('%%I.%%I', schemaname, sequencename), 1, false)"
            " FROM pg_sequences WHERE schemaname = %s AND sequencename <> 'django_migrations_id_seq'",
            [schema],
        )


def make_shop(slug: str, owner: User | None = None, currency: str = "EUR") -> ShopContext:
    owner = owner or make_user(f"owner@{slug}.example")
    shop = services.shop_create(owner=owner, name=slug.title(), slug=slug, currency=currency)
    _sequences_restart(shop.schema_name)
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
            committed_shop_drop(ctx.shop)
            ctx.owner.delete()
            provisioning.warm_pool_fill(size=TEST_POOL_SIZE)  # committed sign-ups used real spares


# --- A real Celery worker ---------------------------------------------------------------


@pytest.fixture
def test_database(django_db_setup: None) -> None:
    """
    Make sure the connection is on the test database before committing anything:
    pytest-django creates it only if some collected test is marked django_db, and
    otherwise `committed_shop` would write to the development database.
    """
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]


@pytest.fixture
def worker(django_db_blocker: Any) -> Iterator[None]:
    """A real Celery worker (in a thread) consuming the test Redis' default and webhook queues."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app as celery_app

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    queues = [settings.CELERY_TASK_DEFAULT_QUEUE, settings.WEBHOOK_QUEUE]
    try:
        with (
            django_db_blocker.unblock(),
            start_worker(celery_app, perform_ping_check=False, loglevel="WARNING", queues=queues),
        ):
            yield
    finally:
        celery_app.conf.task_always_eager = eager


# --- A private redis-server to kill or freeze (never the shared one) -------------------


@pytest.fixture
def private_redis(settings: Any) -> Iterator[RedisServer]:
    """A redis-server of this test's own; `app_redis_at(settings, private_redis.url)` points the app at it."""
    from tenants.keys import redis_client_reset

    with redis_server() as server:
        yield server
    redis_client_reset()  # the next test makes its client from the restored REDIS_URL


@pytest.fixture
def celery_broker_at() -> Iterator[Any]:
    """Call with a broker URL: tasks are then queued there for real (not run eagerly) until the test ends."""
    from config.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager

    def point(url: str) -> None:
        _celery_pools_reset(app)
        app.conf.broker_url = url
        app.conf.task_always_eager = False

    yield point
    _celery_pools_reset(app)
    app.conf.broker_url, app.conf.task_always_eager = saved


def _celery_pools_reset(app: Any) -> None:
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's producer pools are kept per connection, process-wide


# --- Object storage: S3 (moto's server mode, real boto3 over real HTTP) or local files --

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto's server mode) on a free local port, for the whole run."""
    werkzeug_log = logging.getLogger("werkzeug")  # one access-log line per S3 call is noise here
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture
def s3(moto_endpoint: str, settings: Any) -> Any:
    """STORAGE=s3 against a fresh bucket; returns a boto3 client of its own, for looking behind the app."""
    bucket = f"images-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3", endpoint_url=moto_endpoint, config=Config(s3={"addressing_style": "path"}), **CREDENTIALS
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGE = "s3"
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_ACCESS_KEY_ID = CREDENTIALS["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = CREDENTIALS["aws_secret_access_key"]
    settings.AWS_S3_REGION_NAME = CREDENTIALS["region_name"]
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    # Last: changing STORAGES makes Django build default_storage again, now with the settings above.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    client.bucket = bucket
    return client


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """STORAGE=local with an empty MEDIA_ROOT."""
    settings.STORAGE = "local"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path / "media"


PLATFORM = {"HTTP_HOST": settings.PLATFORM_HOST}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    """Assert an RFC 9457 problem response with `status`; return its body."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    # One `type` URI per kind of error, each described in docs/problems.md.
    assert body["type"] == problem_type(body["code"]), body
    assert body["code"] in documented_problem_codes(), f"{body['code']!r} is not in docs/problems.md"
    assert isinstance(body["detail"], str) and not body["detail"].lstrip().startswith(("{", "[")), body
    return body


@functools.cache
def documented_problem_codes() -> frozenset[str]:
    """The codes docs/problems.md describes: the first cell of each table row."""
    text = (Path(settings.BASE_DIR) / "docs" / "problems.md").read_text()
    return frozenset(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
