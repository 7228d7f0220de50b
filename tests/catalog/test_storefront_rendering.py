"""
The storefront's fast form (pages assembled by SQL from renderings the worker
stores, catalog.rendering) against its plain form (the serializers): the same
answer, key for key and in order, over every kind of product and after every
write the renderings depend on.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import images as image_worker
from catalog.cache import storefront_cache_bump
from catalog.models import ProductImage, SearchDocument
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.catalog.test_images import local_put, png_bytes
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer

pytestmark = pytest.mark.django_db

LIST_QUERIES = [
    "",
    "?limit=2",
    "?ordering=price&limit=2",
    "?ordering=-price&limit=3",
    "?q=shirt",
    "?q=shirt&ordering=price",
    "?q=linen%20OR%20mug&ordering=relevance&limit=1",
    "?category=clothing",
    "?category=shirts&in_stock=true",
    "?min_price=10.00&max_price=60.00",
    "?in_stock=true&ordering=-price",
    "?in_stock=false",
    "?q=nothing-matches-this",
]
# After each write: fewer queries, still every ordering, a search, the filters and a page turn.
AFTER_WRITE_QUERIES = ["?limit=3", "?ordering=price&limit=4", "?q=shirt", "?category=clothing&in_stock=true"]


# Labels, an order jsonb would not keep, titled choices, a boolean, and a property without a title.
MUG_SCHEMA = {
    "type": "object",
    "properties": {
        "finish": {
            "type": "string",
            "title": "Finish",
            "oneOf": [
                {"const": "speckled", "title": "Speckled enamel"},
                {"const": "plain", "title": "Plain"},
            ],
        },
        "capacity_ml": {"type": "integer", "title": "Capacity"},
        "dishwasher_safe": {"type": "boolean", "title": "Dishwasher safe"},
        "glaze": {"type": "string", "enum": ["blue", "white"]},
    },
}


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.content else None


@pytest.fixture
def catalog(admin: AdminClient, django_capture_on_commit_callbacks) -> dict[str, Any]:
    """One or many variants, options, compare-at prices, stock or none, attributes, no category."""
    ids: dict[str, Any] = {}
    with django_capture_on_commit_callbacks(execute=True):
        clothing = _ok(admin.post("categories", {"name": "Clothing"}), 201)["id"]
        shirts = _ok(admin.post("categories", {"name": "Shirts", "parent": clothing}), 201)["id"]
        mugs = _ok(admin.post("categories", {"name": "Mugs & Cups", "attribute_schema": MUG_SCHEMA}), 201)[
            "id"
        ]
        ids.update(clothing=clothing, shirts=shirts, mugs=mugs)
        products = [
            {
                "title": "Blue Oxford Shirt",
                "category": shirts,
                "description": "Woven cotton, button-down collar. «Größe» ✓",
                "attributes": {
                    "fabric": "cotton",
                    "sizes": ["S", "M"],
                    "fit": {"cut": "slim", "stretch": 0.5},
                },
                "variants": [
                    {
                        "sku": "OX-S",
                        "title": "Small",
                        "options": {"size": "S", "colour": "blue"},
                        "price": "39.90",
                        "compare_at_price": "49.90",
                        "stock": 5,
                    },
                    {
                        "sku": "OX-M",
                        "title": "Medium",
                        "options": {"size": "M"},
                        "price": "41.00",
                        "stock": 0,
                    },
                    {"sku": "OX-L", "options": {"size": "L"}, "price": "41.00", "stock": 2},
                ],
            },
            {
                "title": "Linen Shirt",
                "category": shirts,
                "attributes": {"fabric": "flax linen"},
                "variants": [{"sku": "LINEN", "price": "59.00", "stock": 0}],
            },
            {
                "title": "Wool Jumper",
                "category": clothing,
                "variants": [{"sku": "WOOL", "price": "120.00", "compare_at_price": "150.00", "stock": 2}],
            },
            {
                "title": "Enamel Mug",
                "category": mugs,
                "attributes": {
                    "capacity_ml": 350,
                    "finish": "speckled",
                    "dishwasher_safe": False,
                    "glaze": "blue",
                },
                "variants": [{"sku": "MUG", "price": "12.50", "stock": 40}],
            },
            {"title": "Gift Card", "variants": [{"sku": "GIFT", "price": "25.00", "stock": 1000}]},
            {
                "title": "Big Mug",
                "category": mugs,
                "variants": [{"sku": "BIG-MUG", "price": "12.50", "stock": 3}],
            },
            {"title": "Draft Thing", "status": "draft", "variants": [{"sku": "DRAFT", "price": "5.00"}]},
        ]
        for body in products:
            created = _ok(admin.post("products", {"status": "active", **body}), 201)
            ids[body["title"]] = created["id"]
            ids[f"{body['title']} variants"] = [v["id"] for v in created["variants"]]
    return ids


def _ordered(content: bytes) -> Any:
    """The JSON with objects as lists of (key, value) pairs: equal only with the keys in the same order."""
    return json.loads(content, object_pairs_hook=list)


def _get(api: Any, ctx: ShopContext, path: str) -> tuple[Any, int]:
    """GET past the response cache; return the response and how many catalog statements it ran."""
    storefront_cache_bump(ctx.shop.schema_name)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, HTTP_HOST=ctx.host)
    # Not counting the rate limiter's reads of the shop's plan, which a process keeps for a while.
    return response, sum("catalog_" in query["sql"] for query in queries.captured_queries)


def assert_fast_equals_plain(api: Any, ctx: ShopContext, path: str, settings: Any) -> Any:
    """The fast answer (one catalog statement) equals the serializers' answer."""
    settings.STOREFRONT_RENDERED_PAGES = False
    plain, _ = _get(api, ctx, path)
    settings.STOREFRONT_RENDERED_PAGES = True
    fast, statements = _get(api, ctx, path)
    assert fast.status_code == plain.status_code, (path, fast.content, plain.content)
    assert _ordered(fast.content) == _ordered(plain.content), path
    if fast.status_code == 200:
        assert statements == 1, f"{path}: {statements} statements, so not the rendered page"
    return _ordered(fast.content)


def assert_storefront_equal(
    api: Any,
    ctx: ShopContext,
    catalog: dict[str, Any],
    settings: Any,
    queries: list[str] = AFTER_WRITE_QUERIES,
) -> None:
    """The list queries (and the pages their links lead to), every product page, the tree: fast == plain."""
    for query in queries:
        path = f"/api/storefront/v1/products{query}"
        body = dict(assert_fast_equals_plain(api, ctx, path, settings))
        seen = 0
        while body.get("next") and seen < 8:  # follow the cursors forward, then one step back
            seen += 1
            link = urlsplit(body["next"])
            body = dict(assert_fast_equals_plain(api, ctx, f"{link.path}?{link.query}", settings))
        if body.get("previous"):
            link = urlsplit(body["previous"])
            assert_fast_equals_plain(api, ctx, f"{link.path}?{link.query}", settings)
    use_shop(ctx.shop)
    slugs = list(SearchDocument.objects.values_list("product__slug", flat=True)) + ["no-such-product"]
    use_public()
    for slug in slugs:
        assert_fast_equals_plain(api, ctx, f"/api/storefront/v1/products/{slug}", settings)
    assert_fast_equals_plain(api, ctx, "/api/storefront/v1/categories", settings)


def test_rendered_pages_equal_the_serializers(api, shop_a: ShopContext, catalog, settings) -> None:
    assert_storefront_equal(api, shop_a, catalog, settings, LIST_QUERIES)


def _image_add(
    api: Any, admin: AdminClient, ctx: ShopContext, product_id: int, alt: str, capture: Any
) -> int:
    created = _ok(
        admin.post(
            f"products/{product_id}/images", {"filename": "p.png", "content_type": "image/png", "alt": alt}
        ),
        201,
    )
    put = local_put(api, created["upload"], png_bytes(700, 420))
    assert put.status_code == 204, put.content
    with capture(execute=True):
        _ok(admin.post(f"products/{product_id}/images/{created['id']}/confirm"))
    return int(created["id"])


def test_renderings_follow_every_write_they_depend_on(
    api,
    admin: AdminClient,
    shop_a: ShopContext,
    catalog,
    settings,
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks,
) -> None:
    capture = django_capture_on_commit_callbacks
    oxford = catalog["Blue Oxford Shirt"]
    small, medium, _ = catalog["Blue Oxford Shirt variants"]
    detail = "/api/storefront/v1/products/blue-oxford-shirt"

    def fast(path: str = detail) -> Any:
        return json.loads(_get(api, shop_a, path)[0].content)

    def write(method: str, path: str, body: Any = None, status: int = 200) -> Any:
        call = getattr(admin, method)
        with capture(execute=True):
            return _ok(call(path) if body is None else call(path, body), status)

    # Prices and compare-at prices.
    write("patch", f"products/{oxford}/variants/{small}", {"price": "29.00", "compare_at_price": None})
    assert fast()["variants"][0]["price"] == {"amount": "29.00", "currency": "EUR"}
    assert fast()["variants"][0]["compare_at_price"] is None
    write("patch", f"products/{oxford}/variants/{medium}", {"compare_at_price": "55.00"})
    assert fast()["variants"][1]["compare_at_price"] == {"amount": "55.00", "currency": "EUR"}
    assert_storefront_equal(api, shop_a, catalog, settings)

    # Stock running out and coming back (only whether a variant is in stock shows).
    write("post", "inventory/adjustments", {"variant": small, "delta": -5, "reason": "damaged"}, 201)
    assert fast()["variants"][0]["in_stock"] is False
    assert "Blue Oxford Shirt" in [
        p["title"] for p in fast("/api/storefront/v1/products?in_stock=true")["results"]
    ]
    write("post", "inventory/adjustments", {"variant": medium, "delta": 3, "reason": "received"}, 201)
    assert fast()["variants"][1]["in_stock"] is True
    assert_storefront_equal(api, shop_a, catalog, settings)

    # Images: confirmed (the worker makes the thumbnail), reordered, deleted; pending ones never show.
    first = _image_add(api, admin, shop_a, oxford, "Front", capture)
    second = _image_add(api, admin, shop_a, oxford, "Back", capture)
    _ok(admin.post(f"products/{oxford}/images", {"filename": "x.png", "content_type": "image/png"}), 201)
    shown = fast()["images"]
    assert [i["id"] for i in shown] == [first, second] and all(i["thumbnail_url"] for i in shown)
    assert [(w["width"], w["height"]) for w in shown[0]["renditions"]] == [
        (160, 96),
        (320, 192),
        (640, 384),
        (700, 420),
    ]
    assert_storefront_equal(api, shop_a, catalog, settings)
    write("post", f"products/{oxford}/images/reorder", {"order": [second, first]})
    assert [i["id"] for i in fast()["images"]] == [second, first]
    write("delete", f"products/{oxford}/images/{second}", status=204)
    assert [i["id"] for i in fast()["images"]] == [first]
    assert_storefront_equal(api, shop_a, catalog, settings)

    # A thumbnail made later by the worker reaches the rendering.
    use_shop(shop_a.shop)
    ProductImage.objects.filter(pk=first).update(thumbnail_key="", renditions=[])
    from catalog.search import search_documents_refresh

    search_documents_refresh([oxford])
    use_public()
    assert fast()["images"][0]["thumbnail_url"] is None and fast()["images"][0]["renditions"] == []
    use_shop(shop_a.shop)
    with capture(execute=True):
        image_worker.image_thumbnail_make(image_id=first)
    use_public()
    assert fast()["images"][0]["thumbnail_url"] and len(fast()["images"][0]["renditions"]) == 4
    assert_storefront_equal(api, shop_a, catalog, settings)

    # The category's schema: its titles, choices and order label the attributes on the page.
    mug = "/api/storefront/v1/products/enamel-mug"
    assert fast(mug)["attributes_shown"] == [
        {"key": "finish", "label": "Finish", "value": "Speckled enamel"},
        {"key": "capacity_ml", "label": "Capacity", "value": "350"},
        {"key": "dishwasher_safe", "label": "Dishwasher safe", "value": "No"},
        {"key": "glaze", "label": "Glaze", "value": "blue"},
    ]
    reordered = {
        "type": "object",
        "properties": {
            "glaze": {"type": "string", "title": "Glaze colour", "enum": ["blue", "white"]},
            **{key: value for key, value in MUG_SCHEMA["properties"].items() if key != "glaze"},
        },
    }
    write("patch", f"categories/{catalog['mugs']}", {"attribute_schema": reordered})
    assert [(a["key"], a["label"]) for a in fast(mug)["attributes_shown"]] == [
        ("glaze", "Glaze colour"),
        ("finish", "Finish"),
        ("capacity_ml", "Capacity"),
        ("dishwasher_safe", "Dishwasher safe"),
    ]
    # The admin reads the schema back in the order it was written, too.
    schema = _ok(admin.get(f"categories/{catalog['mugs']}"))["attribute_schema"]
    assert list(schema["properties"]) == ["glaze", "finish", "capacity_ml", "dishwasher_safe"]
    assert_storefront_equal(api, shop_a, catalog, settings)

    # Category renamed; category moved (its products follow it in the category filter).
    write("patch", f"categories/{catalog['shirts']}", {"name": "Shirts & Blouses", "slug": "tops"})
    assert fast()["category"] == {"id": catalog["shirts"], "name": "Shirts & Blouses", "slug": "tops"}
    write("patch", f"categories/{catalog['shirts']}", {"parent": catalog["mugs"]})
    in_mugs = [p["title"] for p in fast("/api/storefront/v1/products?category=mugs-cups")["results"]]
    assert "Blue Oxford Shirt" in in_mugs
    assert "Blue Oxford Shirt" not in [
        p["title"] for p in fast("/api/storefront/v1/products?category=clothing")["results"]
    ]
    assert_storefront_equal(api, shop_a, catalog, settings)

    # The product itself: title, attributes, category, variants added and removed.
    write("patch", f"products/{oxford}", {"title": "Oxford Shirt", "attributes": {"b": 1, "a": [True, None]}})
    write("patch", f"products/{catalog['Gift Card']}", {"category": catalog["clothing"]})
    added = write(
        "post",
        f"products/{oxford}/variants",
        {"sku": "OX-XL", "options": {"size": "XL"}, "price": "44.44", "stock": 1},
        201,
    )
    write("delete", f"products/{oxford}/variants/{medium}", status=204)
    assert [v["id"] for v in fast()["variants"]] == [
        small,
        catalog["Blue Oxford Shirt variants"][2],
        added["id"],
    ]
    assert_storefront_equal(api, shop_a, catalog, settings)

    # Unpublished: gone from both forms.
    write("patch", f"products/{catalog['Wool Jumper']}", {"status": "archived"})
    assert_problem(_get(api, shop_a, "/api/storefront/v1/products/wool-jumper")[0], 404)
    assert_storefront_equal(api, shop_a, catalog, settings)

    # The shop's currency: every price re-rendered (by the worker the change queues).
    with capture(execute=True):
        changed = api.patch(
            "/api/platform/v1/shops/alpha",
            {"currency": "JPY"},
            format="json",
            **PLATFORM,
            **bearer(shop_a.token()),
        )
    assert changed.status_code == 200, changed.content
    assert fast()["variants"][0]["price"] == {"amount": "29", "currency": "JPY"}
    assert_storefront_equal(api, shop_a, catalog, settings)


def test_a_stale_rendering_is_never_served_and_is_renewed(
    api, shop_a: ShopContext, catalog, settings, eager_tasks: None
) -> None:
    use_shop(shop_a.shop)
    # As after a deploy that changed how object URLs are built, or before `reindex`.
    SearchDocument.objects.filter(product_id=catalog["Enamel Mug"]).update(
        rendering_key="0:EUR:old", storefront_json='{"title": "stale"}'
    )
    use_public()
    settings.STOREFRONT_RENDERED_PAGES = False
    plain_detail = _get(api, shop_a, "/api/storefront/v1/products/enamel-mug")[0].content
    plain_list = _get(api, shop_a, "/api/storefront/v1/products")[0].content
    settings.STOREFRONT_RENDERED_PAGES = True
    # Served through the serializers, while a worker renews the shop's stale renderings.
    assert _ordered(_get(api, shop_a, "/api/storefront/v1/products/enamel-mug")[0].content) == _ordered(
        plain_detail
    )
    use_shop(shop_a.shop)
    document = SearchDocument.objects.get(product_id=catalog["Enamel Mug"])
    use_public()
    assert json.loads(document.storefront_json)["title"] == "Enamel Mug"
    assert _ordered(_get(api, shop_a, "/api/storefront/v1/products")[0].content) == _ordered(plain_list)
    assert_storefront_equal(api, shop_a, catalog, settings)


@pytest.mark.parametrize(
    "cursor",
    [
        "cD1ub3QtYS1kYXRl",  # p=not-a-date
        "cD0xZTk5OTk5OTk=",  # p=1e9999999 (a price no column holds)
        "bz0xJnA9bmFu",  # o=1&p=nan
    ],
)
def test_forged_cursor_positions_are_400(api, shop_a: ShopContext, catalog, cursor: str) -> None:
    for ordering in ("-created", "price"):
        path = f"/api/storefront/v1/products?ordering={ordering}&cursor={cursor}"
        problem = assert_problem(_get(api, shop_a, path)[0], 400)
        assert "cursor" in problem["errors"]


def test_rendered_query_counts_are_pinned(
    api, shop_a: ShopContext, catalog, django_assert_max_num_queries
) -> None:
    storefront_cache_bump(shop_a.shop.schema_name)
    with django_assert_max_num_queries(2):  # SET search_path, then one statement: page, facets, bodies
        _ok(
            api.get(
                "/api/storefront/v1/products?q=shirt&category=clothing&in_stock=true", HTTP_HOST=shop_a.host
            )
        )
    with django_assert_max_num_queries(2):
        _ok(api.get("/api/storefront/v1/products/linen-shirt", HTTP_HOST=shop_a.host))
    with django_assert_max_num_queries(2):
        _ok(api.get("/api/storefront/v1/categories", HTTP_HOST=shop_a.host))
    with django_assert_max_num_queries(1):  # the shop comes with the host's routing
        _ok(api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host))


def test_renderings_with_presigned_urls_are_renewed_before_the_urls_expire(
    api, shop_a: ShopContext, catalog, settings, eager_tasks: None
) -> None:
    settings.STORAGE, settings.AWS_QUERYSTRING_AUTH, settings.AWS_QUERYSTRING_EXPIRE = "s3", True, 3600
    path = "/api/storefront/v1/products?ordering=price"
    # Rendered under other URL settings: served through the serializers, and renewed.
    response, statements = _get(api, shop_a, path)
    assert response.status_code == 200 and statements > 1
    assert _get(api, shop_a, path)[1] == 1
    use_shop(shop_a.shop)
    # Older than half the URLs' lifetime: the links in them may expire before the page does.
    SearchDocument.objects.update(refreshed_at=timezone.now() - timedelta(minutes=31))
    use_public()
    assert _get(api, shop_a, path)[1] > 1
    assert _get(api, shop_a, path)[1] == 1
