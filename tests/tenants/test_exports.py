"""
Shop exports and deletion: a worker writes the shop's data as
JSON Lines to object storage and reports progress and a private link; deleting
a shop exports it first, then leaves no schema, Redis keys or files behind.
"""

from __future__ import annotations

import urllib.request
import uuid
from typing import Any

import pytest
from django.core import serializers
from django.db import connection

from catalog.models import Product
from orders.models import Customer, Order
from tenants import storage
from tenants.keys import redis_client, storage_key
from tenants.models import Domain, Membership, Shop, ShopExport
from tenants.schemas import use_public, use_shop
from tenants.webhooks.models import WebhookEndpoint
from tests.catalog.helpers import AdminClient
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer, make_shop, make_user
from tests.orders.helpers import cart_with, checkout, sellable_product

pytestmark = pytest.mark.django_db


def _platform(api, method: str, path: str, token: str, body: Any = None):
    return getattr(api, method)(
        f"/api/platform/v1/shops/{path}", body, format="json", **PLATFORM, **bearer(token)
    )


def _fill(api, ctx: ShopContext, capture) -> dict[str, Any]:
    """A product, an order by a customer, a webhook endpoint (its secret must not be exported)."""
    admin = AdminClient(api, ctx)
    with capture(execute=True):
        product = sellable_product(admin, title="Export Mug")
        order = checkout(api, ctx, cart_with(api, ctx, product["variants"][0]["id"]))
        assert order.status_code == 201, order.content
        hook = admin.post("webhooks", {"url": "https://hooks.example.com/x", "events": ["order.paid"]})
        assert hook.status_code == 201, hook.content
    return {"product": product, "order": order.json(), "webhook_secret": hook.json()["secret"]}


def _read_lines(data: bytes) -> list[Any]:
    use_public()
    return list(serializers.deserialize("jsonl", data.decode()))


def test_export_round_trips_through_s3(
    api, shop_a: ShopContext, s3, django_capture_on_commit_callbacks
) -> None:
    made = _fill(api, shop_a, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = _platform(api, "post", f"{shop_a.shop.slug}/export", shop_a.token())
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == "pending" and created["download_url"] is None
    detail = _platform(api, "get", f"{shop_a.shop.slug}/exports/{created['id']}", shop_a.token()).json()
    assert detail["status"] == "done" and detail["progress"] == 100
    assert detail["tables_done"] == detail["tables_total"] > 5
    key = f"tenants/{shop_a.shop.schema_name}/exports/{created['id']}.jsonl"
    stored = s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert detail["size"] == len(stored)
    # The link is a presigned GET that works without credentials.
    assert "X-Amz-Signature" in detail["download_url"]
    with urllib.request.urlopen(detail["download_url"]) as download:
        assert download.read() == stored

    objects = _read_lines(stored)
    assert detail["rows_written"] == len(objects)
    by_model: dict[type, list[Any]] = {}
    for item in objects:
        by_model.setdefault(type(item.object), []).append(item.object)
    assert [p.title for p in by_model[Product]] == ["Export Mug"]
    assert [o.number for o in by_model[Order]] == [made["order"]["number"]]
    assert [c.email for c in by_model[Customer]] == ["ada@example.com"]
    assert len(by_model[WebhookEndpoint]) == 1
    assert made["webhook_secret"].encode() not in stored
    assert b'"token_hash"' not in stored and b'"secret"' not in stored
    assert b'"orders.cart"' not in stored and b'"cart_hash"' not in stored  # carts are keyed by a hash


def test_export_with_local_storage_gives_a_signed_link(
    api, shop_a: ShopContext, media_root, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sellable_product(AdminClient(api, shop_a), title="Local Mug")
        export_id = _platform(api, "post", f"{shop_a.shop.slug}/export", shop_a.token()).json()["id"]
    detail = _platform(api, "get", f"{shop_a.shop.slug}/exports/{export_id}", shop_a.token()).json()
    link = detail["download_url"]
    assert link.startswith("/api/downloads?token=")
    download = api.get(link, **PLATFORM)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert [o.object.title for o in _read_lines(body) if isinstance(o.object, Product)] == ["Local Mug"]
    assert_problem(api.get(link[:-3] + "xyz", **PLATFORM), 403)  # tampered
    assert_problem(api.get("/api/downloads?token=not-a-token", **PLATFORM), 403)
    assert_problem(api.get("/api/downloads", **PLATFORM), 403)


def test_export_refusals(api, shop_a: ShopContext, shop_b: ShopContext, media_root) -> None:
    slug = shop_a.shop.slug
    clerk = make_user("admin@alpha.example")
    Membership.objects.create(user=clerk, shop=shop_a.shop, role=Membership.Role.ADMIN)
    assert_problem(_platform(api, "post", f"{slug}/export", shop_a.token(clerk)), 403)  # owners only
    assert_problem(_platform(api, "post", f"{slug}/export", shop_b.token()), 404)  # not a member
    first = _platform(api, "post", f"{slug}/export", shop_a.token())  # stays pending: not committed
    assert first.status_code == 202
    assert assert_problem(_platform(api, "post", f"{slug}/export", shop_a.token()), 409)["code"] == (
        "export_in_progress"
    )
    export_id = first.json()["id"]
    assert_problem(_platform(api, "get", f"{slug}/exports/{export_id}", shop_a.token(clerk)), 403)
    assert_problem(_platform(api, "get", f"{shop_b.shop.slug}/exports/{export_id}", shop_b.token()), 404)
    assert_problem(_platform(api, "get", f"{slug}/exports/{uuid.uuid4()}", shop_a.token()), 404)
    assert_problem(_platform(api, "get", f"{slug}/exports/not-a-uuid", shop_a.token()), 404)
    assert ShopExport.objects.count() == 1


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_deleting_a_shop_exports_it_then_leaves_nothing_behind(
    api, media_root, django_capture_on_commit_callbacks
) -> None:
    ctx = make_shop(f"doomed-{uuid.uuid4().hex[:8]}")
    schema = ctx.shop.schema_name
    _fill(api, ctx, django_capture_on_commit_callbacks)
    api.get("/api/storefront/v1/products", HTTP_HOST=ctx.host)  # a cached answer and a rate-limit counter
    use_shop(ctx.shop)
    storage.object_write(storage_key("images", "1", "photo.png"), b"png", content_type="image/png")
    use_public()
    assert list(redis_client().scan_iter(match=f"{schema}:*"))  # cart, cache, counters
    path = f"{ctx.shop.slug}"

    # Bad confirmations change nothing.
    for body in ({}, {"confirm": "nope"}, {"confirm": 42}, {"confirm": ctx.shop.slug.upper()}):
        assert_problem(_platform(api, "delete", path, ctx.token(), body), 400)
    other = make_user("stranger@example.com")
    assert_problem(_platform(api, "delete", path, ctx.token(other), {"confirm": ctx.shop.slug}), 404)
    ctx.shop.refresh_from_db()
    assert ctx.shop.status == Shop.Status.ACTIVE

    with django_capture_on_commit_callbacks() as callbacks:
        response = _platform(api, "delete", path, ctx.token(), {"confirm": ctx.shop.slug})
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "deleting"
    export_id = response.json()["export"]["id"]
    # Unreachable at once (the commit makes every process forget the host), before the worker has run.
    forget_hosts, *worker = callbacks
    forget_hosts()
    ctx.shop.refresh_from_db()
    assert ctx.shop.status == Shop.Status.DELETING
    assert_problem(api.get("/api/storefront/v1/shop", HTTP_HOST=ctx.host), 404)
    assert_problem(AdminClient(api, ctx).get("products"), 404)
    again = _platform(api, "delete", path, ctx.token(), {"confirm": ctx.shop.slug})
    assert again.status_code == 202 and again.json()["export"]["id"] == export_id

    for callback in worker:  # the worker: export, then remove
        callback()

    assert not _schema_exists(schema)
    assert not Shop.objects.filter(schema_name=schema).exists()
    assert not Domain.objects.filter(domain=ctx.host).exists()
    assert not Membership.objects.filter(user=ctx.owner).exists()
    assert list(redis_client().scan_iter(match=f"{schema}:*")) == []
    export = ShopExport.objects.get(pk=export_id)
    assert export.status == ShopExport.Status.DONE and export.shop_id is None
    assert export.schema_name == schema and export.reason == ShopExport.Reason.DELETION
    left = sorted(p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file())
    assert left == [export.key]  # only the final export
    exported = _read_lines(storage.object_read(export.key, max_bytes=10_000_000))
    assert [o.object.title for o in exported if isinstance(o.object, Product)] == ["Export Mug"]
    assert_problem(_platform(api, "get", path, ctx.token()), 404)
