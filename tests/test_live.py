"""Live updates (config/live.py, tenants.live): the admin and order streams, their auth and shop isolation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient as DjangoAsyncClient

from tenants.live import live_publish, publish_live_updates
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem, bearer
from tests.orders.helpers import cart_with, checkout, sellable_product

pytestmark = pytest.mark.django_db

ADMIN_STREAM = "/api/admin/v1/live"


class AsyncClient(DjangoAsyncClient):
    """Django's AsyncClient, whose `host` header replaces its default `testserver` (not joins it)."""

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope: dict[str, Any] = super()._base_scope(**request)
        if sum(name == b"host" for name, _ in scope["headers"]) > 1:
            scope["headers"] = [header for header in scope["headers"] if header != (b"host", b"testserver")]
        return scope


@pytest.fixture(autouse=True)
def _quick_heartbeat(settings: Any) -> None:
    settings.LIVE_HEARTBEAT_SECONDS = 1


async def _next_event(stream: Any, *, seconds: float = 5) -> bytes:
    """The next chunk of a stream that is not a comment (heartbeats are comments)."""
    while True:
        chunk = await asyncio.wait_for(stream.__anext__(), seconds)
        if not chunk.startswith(b":"):
            return bytes(chunk)


def _parse(chunk: bytes) -> dict[str, Any]:
    fields = dict(line.split(": ", 1) for line in chunk.decode().strip().split("\n"))
    return {"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])}


def _open(path: str, host: str, **headers: str) -> Any:
    async def go() -> Any:
        return await AsyncClient().get(path, headers={"host": host, **headers})

    return async_to_sync(go)()


def test_admin_stream_relays_its_own_shops_events_only(shop_a: ShopContext, shop_b: ShopContext) -> None:
    token = shop_a.token()

    async def scenario() -> list[dict[str, Any]]:
        response = await AsyncClient().get(
            ADMIN_STREAM, headers={"host": shop_a.host, "authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/event-stream"
        assert response["X-Accel-Buffering"] == "no"
        stream = aiter(response.streaming_content)
        first = await stream.__anext__()
        assert first.startswith(b"retry: ")  # subscribed from here on
        live_publish(type="order.created", data={"number": 1001}, schema=shop_b.shop.schema_name)
        live_publish(type="order.created", data={"number": 1002}, schema=shop_a.shop.schema_name)
        live_publish(type="import.progress", data={"id": "x", "done": 5}, schema=shop_a.shop.schema_name)
        events = [_parse(await _next_event(stream)), _parse(await _next_event(stream))]
        await stream.aclose()
        return events

    events = async_to_sync(scenario)()
    assert [(e["event"], e["data"]) for e in events] == [
        ("order.created", {"number": 1002}),
        ("import.progress", {"id": "x", "done": 5}),
    ]


def test_admin_stream_refuses_other_shops_tokens_bad_tokens_and_keys_without_scope(
    api, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    assert_problem(_open(ADMIN_STREAM, shop_b.host, authorization=f"Bearer {shop_a.token()}"), 403)
    assert_problem(_open(ADMIN_STREAM, shop_a.host), 401)
    assert_problem(_open(ADMIN_STREAM, shop_a.host, authorization="Bearer forged.token.here"), 401)
    assert_problem(_open(ADMIN_STREAM, shop_a.host, authorization="Api-Key sf_0123456789ab_" + "x" * 30), 401)
    admin = AdminClient(api, shop_a)
    catalog_key = admin.post("api-keys", {"name": "c", "scopes": ["catalog:read"]}).json()["key"]
    orders_key = admin.post("api-keys", {"name": "o", "scopes": ["orders:read"]}).json()["key"]
    use_public()
    assert_problem(_open(ADMIN_STREAM, shop_a.host, authorization=f"Api-Key {catalog_key}"), 403)
    # Shop A's key on shop B's host.
    assert_problem(_open(ADMIN_STREAM, shop_b.host, authorization=f"Api-Key {orders_key}"), 401)
    assert _open(ADMIN_STREAM, shop_a.host, authorization=f"Api-Key {orders_key}").status_code == 200
    assert_problem(_open(ADMIN_STREAM, "nowhere.localhost", authorization=f"Bearer {shop_a.token()}"), 404)


def test_streams_are_refused_by_sync_workers_and_other_methods(api, shop_a: ShopContext) -> None:
    body = assert_problem(api.get(ADMIN_STREAM, HTTP_HOST=shop_a.host, **bearer(shop_a.token())), 503)
    assert body["code"] == "live_unavailable"

    async def post() -> Any:
        return await AsyncClient().post(ADMIN_STREAM, headers={"host": shop_a.host})

    assert_problem(async_to_sync(post)(), 405)


def test_order_stream_needs_the_orders_token_and_tells_only_its_order(
    api, shop_a: ShopContext, shop_b: ShopContext, media_root
) -> None:
    admin = AdminClient(api, shop_a)
    product = sellable_product(admin)
    placed = checkout(api, shop_a, cart_with(api, shop_a, product["variants"][0]["id"]))
    number, token = placed.json()["number"], placed.json()["token"]
    path = f"/api/storefront/v1/orders/{number}/live"
    use_public()
    assert_problem(_open(f"{path}?token=wrong", shop_a.host), 404)
    assert_problem(_open(path, shop_a.host), 404)
    assert_problem(_open(f"{path}?token={'x' * 5000}", shop_a.host), 404)
    assert_problem(_open(f"{path}?token={token}", shop_b.host), 404)  # the same number in shop B
    assert_problem(
        _open(f"/api/storefront/v1/orders/99999999999999999999/live?token={token}", shop_a.host), 404
    )

    async def scenario() -> dict[str, Any]:
        response = await AsyncClient().get(f"{path}?token={token}", headers={"host": shop_a.host})
        assert response.status_code == 200
        stream = aiter(response.streaming_content)
        await stream.__anext__()
        schema = shop_a.shop.schema_name
        live_publish(type="order.created", data={"number": number, "status": "pending"}, schema=schema)
        live_publish(type="order.paid", data={"number": number + 1, "status": "paid"}, schema=schema)
        live_publish(
            type="order.fulfilled",
            data={"number": number, "status": "fulfilled", "email": "ada@example.com"},
            schema=schema,
        )
        event = _parse(await _next_event(stream))
        await stream.aclose()
        return event

    event = async_to_sync(scenario)()
    # Not the order.created (admin only), not another order's, and only the number and status.
    assert (event["event"], event["data"]) == ("order.fulfilled", {"number": number, "status": "fulfilled"})


def test_outbox_order_events_reach_the_admin_stream(api, shop_a: ShopContext, media_root) -> None:
    admin = AdminClient(api, shop_a)
    product = sellable_product(admin)
    placed = checkout(api, shop_a, cart_with(api, shop_a, product["variants"][0]["id"]))
    use_shop(shop_a.shop)
    events = list(OutboxEvent.objects.filter(type="order.created"))
    use_public()
    token = shop_a.token()

    async def scenario() -> dict[str, Any]:
        response = await AsyncClient().get(
            ADMIN_STREAM, headers={"host": shop_a.host, "authorization": f"Bearer {token}"}
        )
        stream = aiter(response.streaming_content)
        await stream.__anext__()
        publish_live_updates(events)  # what the outbox dispatcher runs after the checkout commits
        event = _parse(await _next_event(stream))
        await stream.aclose()
        return event

    event = async_to_sync(scenario)()
    assert event["event"] == "order.created" and event["id"] == str(events[0].pk)
    assert event["data"]["number"] == placed.json()["number"] and "actor" not in event["data"]


def test_a_stream_ends_when_its_credentials_stop_holding(shop_a: ShopContext, settings: Any) -> None:
    # At the latest after LIVE_STREAM_MAX_SECONDS (a JWT's expiry comes first if sooner): the
    # client reconnects and is checked again, so a revoked key or member stops hearing the shop.
    settings.LIVE_STREAM_MAX_SECONDS = 1
    token = shop_a.token()

    async def scenario() -> list[bytes]:
        response = await AsyncClient().get(
            ADMIN_STREAM, headers={"host": shop_a.host, "authorization": f"Bearer {token}"}
        )
        chunks = []
        async with asyncio.timeout(10):
            async for chunk in response.streaming_content:
                chunks.append(bytes(chunk))
        return chunks

    chunks = async_to_sync(scenario)()
    assert chunks[0].startswith(b"retry: ")
