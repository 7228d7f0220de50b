"""
A web process SIGKILLed at each step of the checkout pipeline (the first
transaction, the provider's call, the second transaction): the recovery that
beat runs (the expiry fan-out, then each shop's sweep) asks the provider and
finishes the order if the money was taken, or gives its stock and cart back if
not; nothing is charged twice and nothing is oversold.

The web process is gunicorn as `make run` starts it (one sync worker), on this
test database; the `test` provider's slow cards keep it inside the step to kill.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from orders import carts, payments, tasks
from orders.models import Cart, Order, TestProviderPayment
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.faults.conftest import APP_NAME_PREFIX, BASE_DIR, database_url, wait_for
from tests.net import free_port
from tests.orders.helpers import ADDRESS, cart_with, sellable_product

PROVIDER_SECONDS = 30  # the slow cards' wait: far longer than the test takes to kill the process


@pytest.mark.django_db
def test_the_suite_has_a_test_database() -> None:
    """pytest-django creates the test database only for a session with a django_db test."""


class Web:
    """gunicorn (one sync worker) on the test database, killed with SIGKILL by the test."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / "gunicorn.log"
        env = {
            **os.environ,
            "STOREFLEET_TESTING": "1",
            "DATABASE_URL": database_url(),
            "PGAPPNAME": f"{APP_NAME_PREFIX}-web",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_TIMEOUT": "120",
            "TEST_PROVIDER_SLOW_SECONDS": str(PROVIDER_SECONDS),
            "RATE_LIMIT_CHECKOUT_PER_MINUTE": "100000",
            "PYTHONPATH": str(BASE_DIR),
        }
        self.process = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, "gunicorn to answer", 60, lambda: self.log.read_text(errors="replace")[-3000:])

    def _ready(self) -> bool:
        try:
            connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection_.request("GET", "/healthz")
            return connection_.getresponse().status == 200
        except OSError:
            return False

    def checkout_in_background(
        self, ctx: ShopContext, cart_id: str, card: str, key: str | None = None
    ) -> dict[str, Any]:
        """Send a checkout and return at once; the answer (or the error) lands in the dict."""
        outcome: dict[str, Any] = {}
        body = json.dumps(
            {
                "cart": cart_id,
                "email": "ada@example.com",
                "shipping_address": ADDRESS,
                "payment_method": {"provider": "test", "card_number": card},
            }
        )

        def send() -> None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PROVIDER_SECONDS * 2)
                conn.request(
                    "POST",
                    "/api/storefront/v1/checkout",
                    body,
                    {
                        "Host": ctx.host,
                        "Content-Type": "application/json",
                        "Idempotency-Key": key or uuid.uuid4().hex,
                    },
                )
                outcome["status"] = conn.getresponse().status
            except OSError as error:
                outcome["error"] = error

        threading.Thread(target=send, daemon=True).start()
        return outcome

    def kill(self) -> None:
        """SIGKILL the master and its worker: no graceful shutdown, no rollback sent by the process."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def web(test_database: None, request: pytest.FixtureRequest) -> Iterator[Any]:
    tmp = BASE_DIR / "var" / "faults" / request.node.name[:80]
    tmp.mkdir(parents=True, exist_ok=True)
    started: list[Web] = []

    def start() -> Web:
        started.append(Web(tmp))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            if server.process.poll() is None:
                server.kill()


def _shop_read(ctx: ShopContext, read: Any) -> Any:
    use_shop(ctx.shop)
    try:
        return read()
    finally:
        use_public()


def _beat_after(minutes: int) -> None:
    """What beat does every minute (the expiry fan-out and each shop's sweep), as if `minutes` from now."""
    use_public()
    tasks.unpaid_orders_expire.delay(now=(timezone.now() + dt.timedelta(minutes=minutes)).isoformat())


@pytest.fixture
def shop(committed_shop: ShopContext, django_db_blocker: Any) -> Iterator[tuple[ShopContext, int]]:
    with django_db_blocker.unblock():
        variant = sellable_product(AdminClient(APIClient(), committed_shop), stock=10)["variants"][0]["id"]
        use_public()
        yield committed_shop, variant


def _stock(ctx: ShopContext, variant: int) -> int:
    from catalog.models import Variant

    return int(_shop_read(ctx, lambda: Variant.objects.get(pk=variant).stock))


@pytest.mark.parametrize(
    ("card", "charged"),
    [
        (payments.TEST_CARD_SLOW, False),  # killed while the provider had not taken the money yet
        (payments.TEST_CARD_TIMES_OUT, True),  # killed after the provider took it, before the second step
    ],
)
def test_a_web_process_killed_while_the_provider_answers_is_recovered(
    web: Any, shop: tuple[ShopContext, int], django_db_blocker: Any, card: str, charged: bool
) -> None:
    ctx, variant = shop
    with django_db_blocker.unblock():
        cart_id = cart_with(APIClient(), ctx, variant, 2)
        use_public()
        server = web()
        outcome = server.checkout_in_background(ctx, cart_id, card)
        # The first transaction committed: a pending order holds the stock.
        wait_for(lambda: _shop_read(ctx, Order.objects.exists), "the first step's commit", 30)
        if charged:
            wait_for(lambda: _shop_read(ctx, TestProviderPayment.objects.exists), "the provider's charge", 30)
        time.sleep(0.5)
        server.kill()
        wait_for(lambda: outcome, "the shopper's connection to drop", 10)
        assert "status" not in outcome  # no answer ever came
        order = _shop_read(ctx, Order.objects.get)
        assert (order.status, order.payment_status) == ("pending", "pending")
        assert _stock(ctx, variant) == 8

        _beat_after(minutes=1)  # too early: a checkout may still be waiting for its provider
        assert _shop_read(ctx, lambda: Order.objects.get().status) == "pending"
        _beat_after(minutes=3)
        order = _shop_read(ctx, Order.objects.get)
        provider_side = _shop_read(ctx, lambda: list(TestProviderPayment.objects.all()))
        if charged:
            assert (order.status, order.payment_status) == ("paid", "paid")
            assert _stock(ctx, variant) == 8
            assert [p.status for p in provider_side] == ["succeeded"]  # charged once
        else:
            assert (order.status, order.payment_status) == ("cancelled", "failed")
            assert _stock(ctx, variant) == 10
            assert [p.status for p in provider_side] == ["voided"]  # a late request takes nothing
            cart = _shop_read(ctx, lambda: Cart.objects.get())
            assert cart.checked_out_at is None and cart.items == {str(variant): 2}
        # Another sweep changes nothing.
        _beat_after(minutes=5)
        assert _shop_read(ctx, lambda: Order.objects.get().status) == order.status


def test_a_web_process_killed_in_either_transaction_is_recovered(
    web: Any, shop: tuple[ShopContext, int], django_db_blocker: Any
) -> None:
    """Killed inside the first transaction: nothing was written. Inside the second: the sweep finishes it."""
    ctx, variant = shop
    with django_db_blocker.unblock():
        server = web()
        # The first transaction waits on the cart's row, which this test holds, and dies there.
        first_cart = cart_with(APIClient(), ctx, variant, 1)
        use_shop(ctx.shop)
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM orders_cart FOR UPDATE")
            outcome = server.checkout_in_background(ctx, first_cart, payments.TEST_CARD_PAYS)
            time.sleep(2)
            server.kill()
            cursor.execute("ROLLBACK")
        use_public()
        wait_for(lambda: outcome, "the shopper's connection to drop", 10)
        assert not _shop_read(ctx, Order.objects.exists) and _stock(ctx, variant) == 10

        # The second transaction ends by storing the answer under the Idempotency-Key (in the
        # shop's schema): this test holds an uncommitted row with that key, so the second step
        # waits there, and dies there.
        server = web()
        second_cart = cart_with(APIClient(), ctx, variant, 1)
        use_public()
        key = uuid.uuid4().hex
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                f"""INSERT INTO "{ctx.shop.schema_name}".tenants_idempotencyrecord (schema_name, principal,
                       key, method, path,
                       fingerprint, status_code, response_body, response_content_type, response_headers,
                       created_at)
                   VALUES (%s, %s, %s, 'POST', '/', '', 500, NULL, '', '{{}}'::jsonb, now())""",
                [ctx.shop.schema_name, f"cart:{carts.cart_hash(second_cart)}", key],
            )
            outcome = server.checkout_in_background(ctx, second_cart, payments.TEST_CARD_PAYS, key=key)
            wait_for(lambda: _charged_elsewhere(ctx), "the provider's charge", 30)
            time.sleep(1.5)
            server.kill()
            cursor.execute("ROLLBACK")
        use_public()
        wait_for(lambda: outcome, "the shopper's connection to drop", 10)
        order = _shop_read(ctx, Order.objects.get)
        assert (order.status, order.payment_status) == ("pending", "pending")
        assert _shop_read(ctx, lambda: TestProviderPayment.objects.get().status) == "succeeded"
        _beat_after(minutes=3)
        order = _shop_read(ctx, Order.objects.get)
        assert (order.status, order.payment_status) == ("paid", "paid")
        assert _stock(ctx, variant) == 9


def _charged_elsewhere(ctx: ShopContext) -> bool:
    """Whether the provider took a payment, seen from a session of its own (this one is in a transaction)."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        table = f"{ctx.shop.schema_name}.orders_testproviderpayment"
        row = other.execute(f"SELECT count(*) FROM {table}").fetchone()
        return bool(row and row[0])
