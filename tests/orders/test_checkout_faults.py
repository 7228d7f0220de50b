"""
Checkout under faults and misuse: keys are the shopper's own, a cart makes one
order, carts live in PostgreSQL (a Redis restart or outage loses none), and a
committed checkout answers its order within a bounded time whatever Redis and
the broker do; the relay delivers its events afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from rest_framework.test import APIClient

from catalog.models import Variant
from orders import carts, tasks
from orders.models import Cart, Order, Payment
from tenants.idempotency.models import IdempotencyRecord
from tenants.keys import redis_client_reset
from tenants.outbox import services as outbox
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem
from tests.orders.helpers import cart_with, checkout, sellable_product, storefront
from tests.redis_server import RedisServer, app_redis_at


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def _in_shop(ctx: ShopContext, read: Any) -> Any:
    use_shop(ctx.shop)
    try:
        return read()
    finally:
        use_public()


# --- 12.11: Idempotency-Keys belong to one shopper ------------------------------------------


@pytest.mark.django_db
def test_two_shoppers_with_the_same_key_each_get_their_own_order(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    first_cart, second_cart = cart_with(api, shop_a, variant), cart_with(api, shop_a, variant)
    first = checkout(api, shop_a, first_cart, key="checkout-1")
    second = checkout(api, shop_a, second_cart, key="checkout-1")
    assert first.status_code == 201 and second.status_code == 201, second.content
    assert "Idempotent-Replayed" not in second
    assert first.json()["number"] != second.json()["number"]
    assert first.json()["token"] != second.json()["token"]
    for order in (first.json(), second.json()):
        mine = storefront(api, shop_a, "get", f"orders/{order['number']}?token={order['token']}")
        assert mine.status_code == 200 and mine.json()["number"] == order["number"]
    assert _in_shop(shop_a, Order.objects.count) == 2


@pytest.mark.django_db
def test_a_replay_gives_the_token_only_to_its_cart_and_none_is_stored(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    mine, theirs = cart_with(api, shop_a, variant), cart_with(api, shop_a, variant)
    placed = checkout(api, shop_a, mine, key="same-key").json()

    # Another shopper with the same key, the same e-mail and address: their own order, never ours.
    other = checkout(api, shop_a, theirs, key="same-key")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert other.json()["number"] != placed["number"]
    assert placed["token"] not in other.content.decode()

    # The holder of the cart retrying gets the order again, token included, though none is stored.
    again = checkout(api, shop_a, mine, key="same-key")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == placed
    stored = [
        bytes(body).decode() for body in IdempotencyRecord.objects.values_list("response_body", flat=True)
    ]
    assert len(stored) == 2 and all('"token"' not in body for body in stored)
    assert not any(placed["token"] in body or mine in body for body in stored)
    principals = set(IdempotencyRecord.objects.values_list("principal", flat=True))
    assert len(principals) == 2 and all(p.startswith("cart:") and mine not in p for p in principals)
    # The same key and cart with another body is refused, as before.
    assert_problem(checkout(api, shop_a, mine, key="same-key", email="else@example.com"), 422)


# --- 13.2: one cart, one order ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cart_checked_out_twice_with_different_keys_makes_one_order(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    placed = checkout(api, shop_a, cart_id, key="attempt-1")
    assert placed.status_code == 201
    again = assert_problem(checkout(api, shop_a, cart_id, key="attempt-2"), 409)
    assert again["code"] == "cart_checked_out" and again["order"] == placed.json()["number"]
    assert "token" not in again and placed.json()["token"] not in str(again)
    # The checked-out cart takes no more items, and says so.
    added = storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 1})
    assert assert_problem(added, 409)["code"] == "cart_checked_out"
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").json()["lines"] == []
    assert _in_shop(shop_a, Order.objects.count) == 1
    assert _in_shop(shop_a, Payment.objects.count) == 1
    assert _in_shop(shop_a, lambda: Variant.objects.get(pk=variant).stock) == 3


def test_the_same_cart_raced_with_different_keys_is_charged_once(
    committed_shop: ShopContext, django_db_blocker
) -> None:
    """Eight checkouts of one cart at once, each with its own key: one order, one charge, the rest 409."""
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=50)["variants"][0]["id"]
        cart_id = cart_with(APIClient(), committed_shop, variant, 1)
        barrier = threading.Barrier(8)
        answers: list[Any] = []
        lock = threading.Lock()

        def buy() -> None:
            try:
                barrier.wait(10)
                response = checkout(APIClient(), committed_shop, cart_id, key=uuid.uuid4().hex)
                with lock:
                    answers.append(response)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=buy) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7
        assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {
            "cart_checked_out"
        }
        use_shop(committed_shop.shop)
        assert Order.objects.count() == 1 and Payment.objects.count() == 1
        assert Variant.objects.get(pk=variant).stock == 49
        use_public()


# --- 13.3: carts live in PostgreSQL -------------------------------------------------------------


@pytest.mark.django_db
def test_a_cart_survives_a_redis_restart(
    api, admin: AdminClient, shop_a: ShopContext, private_redis: RedisServer, settings
) -> None:
    app_redis_at(settings, private_redis.url)
    variant = sellable_product(admin, stock=5, price="12.50")["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    private_redis.restart()  # no persistence, like the shared server: everything in Redis is gone
    cart = storefront(api, shop_a, "get", f"carts/{cart_id}")
    assert cart.status_code == 200 and [(line["id"], line["quantity"]) for line in cart.json()["lines"]] == [
        (variant, 2)
    ]
    assert checkout(api, shop_a, cart_id).status_code == 201


@pytest.mark.django_db
def test_carts_keep_only_a_hash_of_their_id_and_expire_after_seven_days_unused(
    api, admin: AdminClient, shop_a: ShopContext
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    kept, old = cart_with(api, shop_a, variant), cart_with(api, shop_a, variant)
    use_shop(shop_a.shop)
    assert not Cart.objects.filter(pk__in=[kept, old]).exists()
    assert Cart.objects.filter(pk=carts.cart_hash(kept), items={str(variant): 1}).exists()
    # Read six days later: the read starts the 7 days again (once a day at most).
    Cart.objects.filter(pk=carts.cart_hash(kept)).update(touched_at=carts_now() - timedelta(days=6))
    Cart.objects.filter(pk=carts.cart_hash(old)).update(touched_at=carts_now() - timedelta(days=8))
    use_public()
    assert storefront(api, shop_a, "get", f"carts/{kept}").status_code == 200
    lost = assert_problem(storefront(api, shop_a, "get", f"carts/{old}"), 404)
    assert lost["code"] == "cart_not_found"
    assert assert_problem(checkout(api, shop_a, old), 404)["code"] == "cart_not_found"
    use_shop(shop_a.shop)
    assert Cart.objects.get(pk=carts.cart_hash(kept)).touched_at > carts_now() - timedelta(minutes=1)
    use_public()
    # The daily sweep (beat, from the public schema) deletes each shop's expired carts in its schema.
    assert tasks.carts_expired_delete.delay().get() >= 1
    use_shop(shop_a.shop)
    assert set(Cart.objects.values_list("pk", flat=True)) == {carts.cart_hash(kept)}
    use_public()


def carts_now() -> Any:
    from django.utils import timezone

    return timezone.now()


# --- 13.1: Redis down or frozen: carts work, a committed checkout answers its order ------------


@pytest.mark.django_db
def test_redis_down_carts_and_checkout_still_work(
    api, admin: AdminClient, shop_a: ShopContext, private_redis: RedisServer, settings
) -> None:
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    app_redis_at(settings, private_redis.url)
    private_redis.kill()
    cart_id = storefront(api, shop_a, "post", "carts").json()["id"]
    added = storefront(api, shop_a, "post", f"carts/{cart_id}/items", {"variant": variant, "quantity": 1})
    assert added.status_code == 201, added.content
    assert storefront(api, shop_a, "get", f"carts/{cart_id}").status_code == 200
    placed = checkout(api, shop_a, cart_id)
    assert placed.status_code == 201, placed.content


def _checkout_within(ctx: ShopContext, cart_id: str, seconds: float) -> tuple[Any, float]:
    """Check out on another thread, so a hang fails the test instead of stalling it."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(checkout(APIClient(), ctx, cart_id))
        finally:
            connections.close_all()

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"the checkout did not answer within {seconds} s"
    return result[0], time.monotonic() - started


def _pending_order_events(ctx: ShopContext) -> list[OutboxEvent]:
    use_shop(ctx.shop)  # a shop's events are in its own schema's outbox
    events = list(
        OutboxEvent.objects.filter(
            schema_name=ctx.shop.schema_name, type__startswith="order.", dispatched_at__isnull=True
        )
    )
    use_public()
    return events


@pytest.mark.parametrize("fault", ["frozen", "down"])
def test_a_committed_checkout_answers_its_order_when_redis_fails_after_commit(
    committed_shop: ShopContext,
    django_db_blocker,
    private_redis: RedisServer,
    celery_broker_at,
    settings,
    fault: str,
) -> None:
    """
    Redis (cache, rate limits, outbox flags) and the broker on one private
    redis-server that is frozen (SIGSTOP) or killed: the checkout commits and
    answers 201 with its order within about two seconds; once Redis is back, the
    relay hands the order's events to the dispatcher and the e-mail goes out.
    """
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=5)["variants"][0]["id"]
        cart_id = cart_with(APIClient(), committed_shop, variant, 1)
        app_redis_at(settings, private_redis.url)
        settings.CELERY_BROKER_URL = private_redis.url
        celery_broker_at(private_redis.url)
        private_redis.freeze() if fault == "frozen" else private_redis.kill()

        placed, took = _checkout_within(committed_shop, cart_id, seconds=10)
        assert placed.status_code == 201, placed.content
        # One 1 s timeout (the rate limiter's; then Redis is known to be down and skipped) plus the
        # checkout itself; the margin is for a loaded 2-core machine (figures in the README).
        assert took < 4.0, f"{took:.2f} s"
        order = placed.json()
        assert order["status"] == "paid" and order["token"]
        pending = _pending_order_events(committed_shop)
        assert {event.type for event in pending} == {"order.created", "order.paid"}

        # Redis is back; the beat relay (tasks eager again) finds the events and dispatches them.
        private_redis.kill()
        private_redis.start()
        celery_broker_at(settings.CELERY_BROKER_URL)  # and back to eager tasks below
        from config.celery import app

        app.conf.task_always_eager = True
        mail.outbox.clear()
        redis_client_reset()  # past the client's pause after a failure, as beat's next runs are
        # The commit could not note the shop in the relay's Redis set: the sweep finds it again.
        assert outbox.events_relay(older_than=timedelta(0)) == 0
        assert outbox.events_sweep() == 1
        assert outbox.events_relay(older_than=timedelta(0)) >= 2
        assert _pending_order_events(committed_shop) == []
        assert any(str(order["number"]) in message.subject for message in mail.outbox)
        use_shop(committed_shop.shop)
        assert Order.objects.count() == 1
        use_public()


def test_a_frozen_broker_does_not_hold_the_checkout_answer(
    committed_shop: ShopContext, django_db_blocker, private_redis: RedisServer, celery_broker_at
) -> None:
    """Redis answers but the broker is frozen: queuing the dispatcher gives up after its timeouts."""
    with django_db_blocker.unblock():
        admin = AdminClient(APIClient(), committed_shop)
        variant = sellable_product(admin, stock=5)["variants"][0]["id"]
        cart_id = cart_with(APIClient(), committed_shop, variant, 1)
        celery_broker_at(private_redis.url)
        private_redis.freeze()
        placed, took = _checkout_within(committed_shop, cart_id, seconds=15)
        assert placed.status_code == 201, placed.content
        # The broker's 1 s socket timeout, no retry, plus the checkout; margin as above.
        assert took < 4.0, f"{took:.2f} s"
        assert {event.type for event in _pending_order_events(committed_shop)} == {
            "order.created",
            "order.paid",
        }
