"""Storefront API: search, filters, facets, ordering, cache and its invalidation, isolation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from catalog.models import SearchDocument
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def catalog(admin: AdminClient, django_capture_on_commit_callbacks) -> dict[str, int]:
    """A small catalog, with its search documents built by the event handlers."""
    ids: dict[str, int] = {}
    with django_capture_on_commit_callbacks(execute=True):
        clothing = admin.post("categories", {"name": "Clothing"}).json()["id"]
        shirts = admin.post("categories", {"name": "Shirts", "parent": clothing}).json()["id"]
        mugs = admin.post("categories", {"name": "Mugs"}).json()["id"]
        ids.update(clothing=clothing, shirts=shirts, mugs=mugs)
        rows: list[tuple[str, int, str, int, str, dict[str, Any]]] = [
            (
                "Blue Oxford Shirt",
                shirts,
                "39.90",
                5,
                "active",
                {"description": "Woven cotton, button-down collar."},
            ),
            ("Linen Shirt", shirts, "59.00", 0, "active", {"attributes": {"fabric": "flax linen"}}),
            ("Wool Jumper", clothing, "120.00", 2, "active", {}),
            ("Enamel Mug", mugs, "12.50", 40, "active", {}),
            ("Secret Prototype", mugs, "5.00", 1, "draft", {}),
            ("Old Mug", mugs, "3.00", 9, "archived", {}),
        ]
        for title, category, price, stock, status, extra in rows:
            sku = title.upper().replace(" ", "-")
            body = {
                "title": title,
                "category": category,
                "status": status,
                "variants": [{"sku": sku, "price": price, "stock": stock}],
                **extra,
            }
            response = admin.post("products", body)
            assert response.status_code == 201, response.content
            ids[title] = response.json()["id"]
    return ids


def _list(api, ctx: ShopContext, query: str = "") -> dict:
    response = api.get(f"/api/storefront/v1/products{query}", HTTP_HOST=ctx.host)
    assert response.status_code == 200, response.content
    return response.json()


def _titles(body: dict) -> list[str]:
    return [p["title"] for p in body["results"]]


def test_only_active_products_are_listed_newest_first(api, shop_a: ShopContext, catalog) -> None:
    body = _list(api, shop_a)
    assert _titles(body) == ["Enamel Mug", "Wool Jumper", "Linen Shirt", "Blue Oxford Shirt"]
    assert body["results"][0]["variants"][0]["price"] == {"amount": "12.50", "currency": "EUR"}
    assert set(body) == {"results", "next", "previous", "facets"}


def test_full_text_search_over_title_description_sku_and_attributes(
    api, shop_a: ShopContext, catalog
) -> None:
    assert _titles(_list(api, shop_a, "?q=oxford")) == ["Blue Oxford Shirt"]
    assert _titles(_list(api, shop_a, "?q=cotton")) == ["Blue Oxford Shirt"]  # description
    assert _titles(_list(api, shop_a, "?q=flax")) == ["Linen Shirt"]  # attribute value
    assert _titles(_list(api, shop_a, "?q=ENAMEL-MUG")) == ["Enamel Mug"]  # SKU
    assert _titles(_list(api, shop_a, "?q=shirt -linen")) == ["Blue Oxford Shirt"]  # web search syntax
    assert _titles(_list(api, shop_a, "?q=prototype")) == []  # drafts never show
    ranked = _titles(_list(api, shop_a, "?q=shirt&ordering=relevance"))
    assert set(ranked) == {"Blue Oxford Shirt", "Linen Shirt"}


def test_filters_and_ordering(api, shop_a: ShopContext, catalog) -> None:
    assert _titles(_list(api, shop_a, "?category=clothing&ordering=price")) == [
        "Blue Oxford Shirt",
        "Linen Shirt",
        "Wool Jumper",
    ]  # descendants included
    assert _titles(_list(api, shop_a, "?category=shirts&ordering=-price")) == [
        "Linen Shirt",
        "Blue Oxford Shirt",
    ]
    assert _titles(_list(api, shop_a, "?min_price=20&max_price=100&ordering=price")) == [
        "Blue Oxford Shirt",
        "Linen Shirt",
    ]
    assert _titles(_list(api, shop_a, "?in_stock=true&ordering=price")) == [
        "Enamel Mug",
        "Blue Oxford Shirt",
        "Wool Jumper",
    ]


def test_facets_follow_the_current_filter(api, shop_a: ShopContext, catalog) -> None:
    facets = _list(api, shop_a)["facets"]
    assert facets["total"] == 4 and facets["in_stock"] == 3
    assert {c["slug"]: c["count"] for c in facets["categories"]} == {"clothing": 1, "shirts": 2, "mugs": 1}
    bands = {(b["min"], b["max"]): b["count"] for b in facets["price_bands"]}
    assert bands[("10", "25")] == 1 and bands[("25", "50")] == 1 and bands[("50", "100")] == 1
    assert bands[("100", "250")] == 1
    narrowed = _list(api, shop_a, "?category=shirts")["facets"]
    assert narrowed["total"] == 2 and narrowed["in_stock"] == 1


def test_cursor_pages(api, shop_a: ShopContext, catalog) -> None:
    first = _list(api, shop_a, "?limit=3&ordering=price")
    assert _titles(first) == ["Enamel Mug", "Blue Oxford Shirt", "Linen Shirt"]
    second = api.get(first["next"], HTTP_HOST=shop_a.host).json()
    assert _titles(second) == ["Wool Jumper"] and second["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "?min_price=abc",
        "?min_price=-1",
        "?max_price=1.001",
        "?ordering=name",
        "?ordering=relevance",
        "?category=nope",
        "?category=Not%20A%20Slug",
        "?in_stock=maybe",
        "?limit=0",
        "?cursor=%%%",
        "?q=" + "x" * 300,
    ],
)
def test_bad_storefront_queries_are_400(api, shop_a: ShopContext, catalog, query: str) -> None:
    assert_problem(api.get(f"/api/storefront/v1/products{query}", HTTP_HOST=shop_a.host), 400)


def test_product_detail_and_hidden_statuses(api, shop_a: ShopContext, catalog) -> None:
    body = api.get("/api/storefront/v1/products/blue-oxford-shirt", HTTP_HOST=shop_a.host).json()
    assert body["title"] == "Blue Oxford Shirt"
    assert body["category"]["slug"] == "shirts"
    assert body["variants"][0]["in_stock"] is True
    for slug in ("secret-prototype", "old-mug", "no-such-product"):
        assert_problem(api.get(f"/api/storefront/v1/products/{slug}", HTTP_HOST=shop_a.host), 404)


def test_categories_tree(api, shop_a: ShopContext, catalog) -> None:
    tree = api.get("/api/storefront/v1/categories", HTTP_HOST=shop_a.host).json()
    assert [(c["slug"], [k["slug"] for k in c["children"]]) for c in tree] == [
        ("clothing", ["shirts"]),
        ("mugs", []),
    ]


def test_responses_are_cached_and_a_price_change_shows_at_once(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    url = "/api/storefront/v1/products?q=oxford"
    detail = "/api/storefront/v1/products/blue-oxford-shirt"
    assert api.get(url, HTTP_HOST=shop_a.host)["X-Cache"] == "miss"
    assert api.get(url, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"
    assert api.get(detail, HTTP_HOST=shop_a.host)["X-Cache"] == "miss"
    assert api.get(detail, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"

    product = admin.get(f"products/{catalog['Blue Oxford Shirt']}").json()
    variant = product["variants"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        admin.patch(f"products/{product['id']}/variants/{variant}", {"price": "29.00"})

    for path in (url, detail):
        response = api.get(path, HTTP_HOST=shop_a.host)
        assert response["X-Cache"] == "miss"
        body = response.json()
        variants = body["results"][0]["variants"] if "results" in body else body["variants"]
        assert variants[0]["price"]["amount"] == "29.00"


def test_unpublishing_removes_the_product_from_listing_and_search(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    assert "Wool Jumper" in _titles(_list(api, shop_a))
    with django_capture_on_commit_callbacks(execute=True):
        admin.patch(f"products/{catalog['Wool Jumper']}", {"status": "archived"})
    assert "Wool Jumper" not in _titles(_list(api, shop_a))
    with django_capture_on_commit_callbacks(execute=True):
        admin.delete(f"products/{catalog['Enamel Mug']}")
    assert _titles(_list(api, shop_a, "?q=enamel")) == []


def test_shops_never_see_each_others_products_or_cache(
    api, shop_a: ShopContext, shop_b: ShopContext, catalog
) -> None:
    assert _titles(_list(api, shop_a, "?q=oxford")) == ["Blue Oxford Shirt"]
    assert _list(api, shop_b, "?q=oxford")["results"] == []  # same path, other shop: not A's cache
    assert _list(api, shop_b)["results"] == []
    assert_problem(api.get("/api/storefront/v1/products/blue-oxford-shirt", HTTP_HOST=shop_b.host), 404)


def test_storefront_query_counts_are_pinned(
    api, shop_a: ShopContext, catalog, django_assert_max_num_queries
) -> None:
    # SET search_path (once a request), documents page, products, variants, images;
    # facets: totals, category counts, category names
    with django_assert_max_num_queries(8):
        _list(api, shop_a, "?ordering=price")
    with django_assert_max_num_queries(4):  # SET search_path, product with its category, variants, images
        api.get("/api/storefront/v1/products/linen-shirt", HTTP_HOST=shop_a.host)
    with django_assert_max_num_queries(0):  # cached: no database at all
        _list(api, shop_a, "?ordering=price")


# --- The cache key: the parameters the list runs with, nothing else ----------------------

LIST = "/api/storefront/v1/products"


def _get(api, ctx: ShopContext, query: str, **extra: Any):
    response = api.get(f"{LIST}{query}", **{"HTTP_HOST": ctx.host, **extra})
    assert response.status_code == 200, response.content
    return response


def test_an_unknown_parameter_cannot_poison_a_search(api, shop_a: ShopContext, catalog) -> None:
    """
    One parameter named `ordering=price&q` (an unknown one, so the unfiltered list)
    used to share its key with `?ordering=price&q=mug`, as the key joined names and
    values unescaped: every shopper searching for mugs got the whole catalog.
    """
    poison = _get(api, shop_a, "?ordering%3Dprice%26q=mug")
    assert _titles(poison.json()) == ["Enamel Mug", "Wool Jumper", "Linen Shirt", "Blue Oxford Shirt"]
    search = _get(api, shop_a, "?ordering=price&q=mug")
    assert search["X-Cache"] == "miss"
    assert _titles(search.json()) == ["Enamel Mug"]
    # The unknown parameter was ignored, so it shared the unfiltered list's entry.
    assert _get(api, shop_a, "")["X-Cache"] == "hit"


def test_requests_that_mean_the_same_share_an_entry(api, shop_a: ShopContext, catalog) -> None:
    first = _get(api, shop_a, "?min_price=10&ordering=price&in_stock=true")
    assert first["X-Cache"] == "miss"
    for same in (
        "?ordering=price&min_price=10.00&in_stock=1",  # another order and spelling
        "?in_stock=True&min_price=10.0&ordering=price&limit=20",  # the default page size
        "?min_price=10&ordering=price&in_stock=true&utm_source=mail&nocache=7",  # unknown parameters
        "?min_price=5&min_price=10&ordering=price&in_stock=true",  # the last of repeated values counts
    ):
        response = _get(api, shop_a, same)
        assert response["X-Cache"] == "hit", same
        assert response.content == first.content
    assert _get(api, shop_a, "?ordering=-created")["X-Cache"] == "miss"
    assert _get(api, shop_a, "")["X-Cache"] == "hit"  # -created is the list's default


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("?q=mug%26in_stock%3Dfalse", "?q=mug&in_stock=false"),  # & and = inside a value
        ("?q=mug", "?q=mug&in_stock=false"),
        ("?q=mug&ordering=price", "?q=mug"),  # a search orders by relevance by default
        ("?limit=1", "?limit=2"),
        ("?category=mugs", "?category=clothing"),
    ],
)
def test_requests_that_mean_different_things_never_share_an_entry(
    api, shop_a: ShopContext, catalog, first: str, second: str
) -> None:
    assert _get(api, shop_a, first)["X-Cache"] == "miss"
    assert _get(api, shop_a, second)["X-Cache"] == "miss"
    assert _get(api, shop_a, first)["X-Cache"] == "hit"


def test_a_bad_query_is_never_cached_and_spends_the_budget_like_any_request(
    api, shop_a: ShopContext, catalog
) -> None:
    for _ in range(2):
        response = api.get(f"{LIST}?min_price=abc", HTTP_HOST=shop_a.host)
        assert_problem(response, 400)
        assert "X-Cache" not in response
    assert "RateLimit" in response


# --- Links in cached bodies: nothing of the request's host ------------------------------


def test_page_links_never_carry_the_requests_host_port_or_scheme(api, shop_a: ShopContext, catalog) -> None:
    """
    One request with `Host: alpha.localhost:6666` used to fill the cache with `next`
    links to port 6666 (and X-Forwarded-Proto chose their scheme) for every later shopper.
    """
    forged = _get(
        api,
        shop_a,
        "?limit=2&ordering=price&utm_source=x",
        HTTP_HOST=f"{shop_a.host}:6666",
        HTTP_X_FORWARDED_PROTO="https",
    )
    body = forged.json()
    assert body["next"].startswith(f"{LIST}?cursor=")
    assert "6666" not in body["next"] and "//" not in body["next"] and "utm_source" not in body["next"]
    assert body["previous"] is None
    shopper = _get(api, shop_a, "?ordering=price&limit=2")
    assert shopper["X-Cache"] == "hit" and shopper.json()["next"] == body["next"]
    # The relative link, resolved against the shop's host, is the next page.
    second = _get(api, shop_a, body["next"][len(LIST) :])
    assert _titles(second.json()) == ["Linen Shirt", "Wool Jumper"] and second.json()["next"] is None
    assert second.json()["previous"].startswith(f"{LIST}?cursor=")
    assert "6666" not in second.content.decode()


def test_a_forged_cursor_is_a_400(api, shop_a: ShopContext, catalog) -> None:
    from base64 import b64encode

    for cursor in ("bm90IGEgY3Vyc29y!", b64encode(b"o=-5").decode(), b64encode(b"r=x").decode(), "x" * 600):
        assert_problem(api.get(f"{LIST}?cursor={cursor}", HTTP_HOST=shop_a.host), 400)


def test_reindex_rebuilds_documents(shop_a: ShopContext, catalog) -> None:
    use_shop(shop_a.shop)
    SearchDocument.objects.all().delete()
    use_public()
    call_command("reindex", shop="alpha")
    use_shop(shop_a.shop)
    assert SearchDocument.objects.count() == 4


@pytest.mark.parametrize("rendered", [True, False])
def test_moving_a_category_moves_its_products_in_the_category_filter(
    api,
    admin: AdminClient,
    shop_a: ShopContext,
    catalog,
    django_capture_on_commit_callbacks,
    settings,
    rendered,
) -> None:
    settings.STOREFRONT_RENDERED_PAGES = rendered
    with django_capture_on_commit_callbacks(execute=True):
        moved = admin.patch(f"categories/{catalog['shirts']}", {"parent": catalog["mugs"]})
    assert moved.status_code == 200, moved.content
    # The search documents held the old path ("/clothing/shirts/"), which the filter matches on.
    assert _titles(_list(api, shop_a, "?category=mugs")) == ["Enamel Mug", "Linen Shirt", "Blue Oxford Shirt"]
    assert _titles(_list(api, shop_a, "?category=clothing")) == ["Wool Jumper"]


# --- Invalidation by product; the last body while one request refreshes ------------------

DETAIL = "/api/storefront/v1/products/"


def _price_change(admin: AdminClient, product_id: int, price: str, capture) -> None:
    variant = admin.get(f"products/{product_id}").json()["variants"][0]["id"]
    with capture(execute=True):
        response = admin.patch(f"products/{product_id}/variants/{variant}", {"price": price})
    assert response.status_code == 200, response.content


def test_a_product_change_invalidates_its_page_and_the_lists_not_other_products(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    pages = [f"{DETAIL}enamel-mug", f"{DETAIL}wool-jumper", LIST, "/api/storefront/v1/categories"]
    for page in pages:
        assert api.get(page, HTTP_HOST=shop_a.host)["X-Cache"] == "miss"
    _price_change(admin, catalog["Enamel Mug"], "14.00", django_capture_on_commit_callbacks)
    after = {page: api.get(page, HTTP_HOST=shop_a.host) for page in pages}
    assert after[f"{DETAIL}enamel-mug"]["X-Cache"] == "miss"
    assert after[f"{DETAIL}enamel-mug"].json()["variants"][0]["price"]["amount"] == "14.00"
    assert after[LIST]["X-Cache"] == "miss"
    assert after[LIST].json()["results"][0]["variants"][0]["price"]["amount"] == "14.00"
    assert after[f"{DETAIL}wool-jumper"]["X-Cache"] == "hit"  # another product's page stays warm
    assert after["/api/storefront/v1/categories"]["X-Cache"] == "hit"


def test_a_renamed_or_deleted_product_leaves_no_page_behind(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    for slug in ("enamel-mug", "wool-jumper"):
        assert api.get(f"{DETAIL}{slug}", HTTP_HOST=shop_a.host).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin.patch(f"products/{catalog['Enamel Mug']}", {"slug": "stoneware-mug"})
        admin.delete(f"products/{catalog['Wool Jumper']}")
    for _ in range(2):  # the first request's 404 ends the entry: no stale page after it either
        for slug in ("enamel-mug", "wool-jumper"):
            gone = api.get(f"{DETAIL}{slug}", HTTP_HOST=shop_a.host)
            assert_problem(gone, 404)
            assert gone["X-Cache"] == "miss"
    assert api.get(f"{DETAIL}stoneware-mug", HTTP_HOST=shop_a.host).json()["title"] == "Enamel Mug"


def test_a_category_change_invalidates_every_page(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    detail = f"{DETAIL}enamel-mug"
    api.get(detail, HTTP_HOST=shop_a.host)
    with django_capture_on_commit_callbacks(execute=True):
        admin.patch(f"categories/{catalog['mugs']}", {"name": "Cups"})
    response = api.get(detail, HTTP_HOST=shop_a.host)
    assert response["X-Cache"] == "miss" and response.json()["category"]["name"] == "Cups"


def test_while_one_request_refreshes_an_entry_the_others_get_the_last_body(
    api, admin: AdminClient, shop_a: ShopContext, catalog, django_capture_on_commit_callbacks
) -> None:
    from catalog import cache
    from tenants import keys
    from tenants.schemas import current_schema

    detail = f"{DETAIL}enamel-mug"
    old = api.get(detail, HTTP_HOST=shop_a.host)
    _price_change(admin, catalog["Enamel Mug"], "14.00", django_capture_on_commit_callbacks)
    # Another worker's lookup just took the entry's refresh and is rendering it.
    use_shop(shop_a.shop)
    assert current_schema() == shop_a.shop.schema_name
    request_key = cache.request_cache_key(detail, "", currency="EUR")
    first = cache.storefront_cache_get(request_key, tag=cache.product_tag("enamel-mug"))
    assert first.body is None  # this one renders
    second = cache.storefront_cache_get(request_key, tag=cache.product_tag("enamel-mug"))
    assert second.stale and second.body == old.content  # only one refresh at a time
    use_public()
    stale = api.get(detail, HTTP_HOST=shop_a.host)
    assert stale["X-Cache"] == "stale" and stale.content == old.content
    assert stale["Cache-Control"] == "no-cache"  # no shared cache keeps a stale answer
    assert stale.json()["variants"][0]["price"]["amount"] == "12.50"
    # The refresher gave up (or its worker died): the lock lapses and the next request renders.
    use_shop(shop_a.shop)
    keys.redis_client().delete(f"{cache._response_key(request_key)}refresh")
    use_public()
    fresh = api.get(detail, HTTP_HOST=shop_a.host)
    assert fresh["X-Cache"] == "miss" and fresh.json()["variants"][0]["price"]["amount"] == "14.00"
    assert api.get(detail, HTTP_HOST=shop_a.host)["X-Cache"] == "hit"
