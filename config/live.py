"""
The live-update streams (Server-Sent Events), served by the ASGI process
(config/asgi.py under uvicorn), never by gunicorn's sync workers: a stream stays
open for as long as the page does, and would hold a sync worker all that time.

- `GET /api/admin/v1/live` — the shop's admin stream: new orders, order status
  changes, low stock, import and export progress. The same credentials as the
  Admin API (`Authorization: Bearer <jwt>` of a member, or `Api-Key` with
  `orders:read`); the browser sends them with fetch(), as EventSource cannot
  send headers.
- `GET /api/storefront/v1/orders/{number}/live?token=` — one order's stream for
  the shopper's order page (paid, shipped, cancelled, refunded), with the
  order's secret token, as `GET orders/{number}` takes it.

Both subscribe to the shop's Redis channel (tenants.live), so a stream only ever
hears its own shop. Why SSE and not WebSocket: the updates go one way, SSE is
plain HTTP (the edge, auth headers, CORS and problem responses work as for any
GET), browsers reconnect by themselves, and it needs no extra server library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from rest_framework.exceptions import APIException, NotAuthenticated
from rest_framework.request import Request

from orders.selectors import access_order_by_number_and_token
from tenants.api.auth import ApiKeyAuthentication, ShopAccess, ShopJWTAuthentication
from tenants.conventions.problems import exception_handler, problem_response
from tenants.errors import DomainError
from tenants.live import live_channel, order_page_view
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
# What an API key needs to open the admin stream: it carries orders and their totals.
ADMIN_STREAM_SCOPE = "orders:read"
RECONNECT_MS = 3000
Shown = Callable[[dict[str, Any]], dict[str, Any] | None]


def _refused(exc: Exception, request: Request | None = None) -> HttpResponse:
    response = exception_handler(exc, {"request": request})
    if response is None:
        raise exc
    return response


@dataclass(frozen=True)
class Access:
    """Whose stream may open: the shop's schema, and until when its credentials hold."""

    schema: str
    until: float


def _until(auth: Any) -> float:
    """
    When the stream must end: a JWT's expiry, and at the latest LIVE_STREAM_MAX_SECONDS
    from now, so that a revoked API key or membership stops being told within that time
    (the client reconnects, with a fresh token, and is checked again).
    """
    latest = time.time() + settings.LIVE_STREAM_MAX_SECONDS
    expiry = getattr(auth, "payload", {}).get("exp") if auth is not None else None
    return min(latest, float(expiry)) if isinstance(expiry, int | float) else latest


def _admin_access(request: HttpRequest) -> HttpResponse | Access:
    """Who may open the shop's admin stream, else the problem to answer."""
    drf_request = Request(request, authenticators=[ShopJWTAuthentication(), ApiKeyAuthentication()])
    view = SimpleNamespace(required_scopes={"GET": ADMIN_STREAM_SCOPE}, member_roles=None)
    try:
        if not ShopAccess().has_permission(drf_request, view):
            raise NotAuthenticated("Send `Authorization: Bearer <jwt>` or `Authorization: Api-Key <key>`.")
    except APIException as exc:
        response = _refused(exc, drf_request)
        if isinstance(exc, NotAuthenticated):
            response["WWW-Authenticate"] = 'Bearer realm="admin"'
        return response
    return Access(current_schema(), _until(drf_request.auth))


def _order_access(request: HttpRequest, number: int) -> HttpResponse | Access:
    token = request.GET.get("token", "")
    if not token or len(token) > 200:
        return problem_response(404, detail="No such order, or the token does not match.", code="not_found")
    try:
        access_order_by_number_and_token(number=number, token=token)
    except DomainError as exc:
        return _refused(exc)
    return Access(current_schema(), _until(None))


def _not_here(request: HttpRequest) -> HttpResponse | None:
    """Refuse what a stream cannot serve: a method other than GET, or a sync (WSGI) worker."""
    if request.method != "GET":
        return problem_response(405, detail="Only GET.", headers={"Allow": "GET"})
    if not isinstance(request, ASGIRequest):
        return problem_response(
            503,
            title="Live updates unavailable here",
            detail=(
                "Live updates are served by the ASGI process; route this path to it (docs/live-updates.md)."
            ),
            code="live_unavailable",
            headers={"Retry-After": "10"},
        )
    return None


async def admin_stream(request: HttpRequest) -> HttpResponseBase:
    """The shop's admin stream of order, stock and import events."""
    if (refusal := _not_here(request)) is not None:
        return refusal
    access = await sync_to_async(_admin_access)(request)
    if isinstance(access, HttpResponse):
        return access
    return _event_stream(access, shown=_admin_view)


async def order_stream(request: HttpRequest, number: int) -> HttpResponseBase:
    """One order's stream for the shopper's page, opened with the order's token."""
    if (refusal := _not_here(request)) is not None:
        return refusal
    access = await sync_to_async(_order_access)(request, number)
    if isinstance(access, HttpResponse):
        return access
    return _event_stream(access, shown=lambda message: order_page_view(message, number=number))


def _admin_view(message: dict[str, Any]) -> dict[str, Any]:
    return message


def _event_stream(access: Access, *, shown: Shown) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_events(access, shown), content_type=EVENT_STREAM)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx passes each event on at once
    return response


def sse_message(message: dict[str, Any]) -> bytes:
    data = json.dumps(message["data"], separators=(",", ":"))
    return f"id: {message['id']}\nevent: {message['type']}\ndata: {data}\n\n".encode()


async def _events(access: Access, shown: Shown) -> AsyncIterator[bytes]:
    """Relay the shop's channel as the stream may see it, a comment every heartbeat, until `access.until`."""
    schema = access.schema
    client = aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(live_channel(schema))
        # The first bytes send the headers: the client knows it is subscribed from here on.
        yield f"retry: {RECONNECT_MS}\n: subscribed\n\n".encode()
        while (left := access.until - time.time()) > 0:
            raw = await pubsub.get_message(timeout=min(settings.LIVE_HEARTBEAT_SECONDS, left))
            if raw is None:
                yield b": keep-alive\n\n"
                continue
            try:
                message = json.loads(raw["data"])
            except (TypeError, ValueError):
                continue
            visible = shown(message)
            if visible is not None:
                yield sse_message(visible)
    except (OSError, aioredis.RedisError):
        # Redis went away: end the stream; the browser reconnects after `retry`.
        logger.warning("Live stream of %s ended: Redis unreachable", schema)
    finally:
        try:
            await asyncio.shield(_close(pubsub, client))
        except Exception:
            logger.debug("Closing a live stream's Redis connection failed", exc_info=True)


async def _close(pubsub: Any, client: Any) -> None:
    await pubsub.aclose()
    await client.aclose()
