"""
The storefront's HTML per route (config/spa.py, catalog/storefront/head.py): its own head
(title, description, canonical, Open Graph, JSON-LD), the first screen's data
embedded and escaped; 404s as pages for browsers and problems for programs;
robots.txt, sitemaps and the favicon; the unknown shop's page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from catalog.storefront.head import script_json
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = (
    '<!doctype html><html lang="en"><head><meta charset="UTF-8" /><title>Shop</title></head>'
    '<body><div id="root"></div><noscript>This shop needs JavaScript.</noscript></body></html>'
)


@pytest.fixture
def dist(tmp_path: Path, settings: Any) -> Path:
    for app in ("storefront", "admin"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "index.html").write_text(INDEX)
    settings.SPA_DIST_DIR = tmp_path
    return tmp_path


@pytest.fixture
def catalog(api: Any, shop_a: ShopContext, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    admin = AdminClient(api, shop_a)
    with django_capture_on_commit_callbacks(execute=True):
        teapots = admin.post("categories", {"name": "Teapots"}).json()
        product = admin.post(
            "products",
            {
                "title": "Blue </script><script>alert(1)</script> Teapot",
                "slug": "blue-teapot",
                "description": "A stoneware teapot that holds a litre. " * 8,
                "category": teapots["id"],
                "status": "active",
                "variants": [
                    {"sku": "TEA-1", "price": "24.50", "stock": 2},
                    {"sku": "TEA-2", "price": "29.00", "stock": 0},
                ],
            },
        )
        assert product.status_code == 201, product.content
        admin.post(
            "products", {"title": "Hidden", "status": "draft", "variants": [{"sku": "H", "price": "1"}]}
        )
    return {"category": teapots, "product": product.json()}


def page(client: Client, ctx: ShopContext, path: str, **extra: Any) -> Any:
    return client.get(path, HTTP_HOST=ctx.host, **BROWSER, **extra)


def embedded(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="storefleet-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no embedded data"
    return json.loads(found.group(1))


def json_ld(html: str) -> list[dict[str, Any]]:
    return [
        json.loads(raw)
        for raw in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]


def meta(html: str, name: str) -> str:
    found = re.search(rf'<meta (?:name|property)="{re.escape(name)}" content="([^"]*)">', html)
    assert found, f"no meta {name}"
    return found.group(1)


def test_a_product_page_carries_its_own_head_and_data(
    dist: Path, catalog: dict[str, Any], api: Any, shop_a: ShopContext
) -> None:
    response = page(Client(), shop_a, "/products/blue-teapot")
    assert response.status_code == 200
    html = response.content.decode()
    # The title is escaped where it is text, and cannot close the script it is embedded in.
    assert "<script>alert(1)</script>" not in html
    assert html.count("</script>") == html.count("<script")
    assert "<title>Blue &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; Teapot – Alpha</title>" in html
    assert len(meta(html, "description")) <= 160
    assert meta(html, "description").startswith("A stoneware teapot that holds a litre.")
    assert '<link rel="canonical" href="http://alpha.localhost/products/blue-teapot">' in html
    assert meta(html, "og:type") == "product"
    assert meta(html, "twitter:card") == "summary"
    product_ld, crumbs = json_ld(html)
    assert product_ld["@type"] == "Product"
    assert product_ld["name"] == "Blue </script><script>alert(1)</script> Teapot"
    assert [
        (offer["price"], offer["priceCurrency"], offer["availability"]) for offer in product_ld["offers"]
    ] == [
        ("24.50", "EUR", "https://schema.org/InStock"),
        ("29.00", "EUR", "https://schema.org/OutOfStock"),
    ]
    assert [item["name"] for item in crumbs["itemListElement"]] == ["Alpha", "Teapots", product_ld["name"]]
    data = embedded(html)
    assert data["product"] == api.get("/api/storefront/v1/products/blue-teapot", HTTP_HOST=shop_a.host).json()
    assert data["shop"]["name"] == "Alpha"
    assert data["theme"]["brand_color"] == "#1f5fbf"


def test_home_and_category_pages_embed_the_first_page_of_products(
    dist: Path, catalog: dict[str, Any], api: Any, shop_a: ShopContext
) -> None:
    html = page(Client(), shop_a, "/").content.decode()
    assert "<title>Alpha</title>" in html
    assert [item["@type"] for item in json_ld(html)] == ["WebSite", "Organization"]
    data = embedded(html)
    assert data["products"]["query"] == ""
    assert data["products"]["page"] == api.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host).json()
    assert [p["slug"] for p in data["products"]["page"]["results"]] == ["blue-teapot"]
    assert data["categories"][0]["slug"] == "teapots"

    html = page(Client(), shop_a, "/?category=teapots&min_price=10&utm_source=x").content.decode()
    assert "<title>Teapots – Alpha</title>" in html
    assert '<link rel="canonical" href="http://alpha.localhost/?category=teapots">' in html
    assert embedded(html)["products"]["query"] == "category=teapots&min_price=10"

    missing = page(Client(), shop_a, "/?category=kettles")
    assert missing.status_code == 404 and '<meta name="robots" content="noindex">' in missing.content.decode()
    search = page(Client(), shop_a, "/?q=teapot").content.decode()
    assert '<meta name="robots" content="noindex">' in search


def test_the_theme_shows_in_the_first_paint(dist: Path, shop_a: ShopContext, api: Any) -> None:
    AdminClient(api, shop_a).patch(
        "theme",
        {"brand_color": "#7a1f5c", "font": "serif", "hero_title": "Small-garden teas", "hero_text": "Fresh."},
    )
    html = page(Client(), shop_a, "/").content.decode()
    assert "<title>Alpha – Small-garden teas</title>" in html
    assert meta(html, "description") == "Fresh."
    assert "--accent:#7a1f5c" in html and "Georgia" in html
    assert meta(html, "theme-color") == "#7a1f5c"


def test_content_pages_have_their_head_and_unknown_ones_are_404(
    dist: Path, shop_a: ShopContext, api: Any
) -> None:
    api.put(
        "/api/admin/v1/pages/shipping",
        {"title": "Shipping", "body": "We ship within two days.\n\nEurope only."},
        format="json",
        **AdminClient(api, shop_a).headers,
    )
    html = page(Client(), shop_a, "/pages/shipping").content.decode()
    assert "<title>Shipping – Alpha</title>" in html
    assert meta(html, "description") == "We ship within two days. Europe only."
    assert embedded(html)["page"]["title"] == "Shipping"
    assert page(Client(), shop_a, "/pages/returns").status_code == 404
    assert page(Client(), shop_a, "/pages/anything").status_code == 404


def test_private_routes_stay_out_of_search_indexes(dist: Path, shop_a: ShopContext) -> None:
    for path, title in (("/checkout", "Checkout"), ("/orders/1001", "Your order"), ("/orders", "Your order")):
        html = page(Client(), shop_a, path).content.decode()
        assert f"<title>{title} – Alpha</title>" in html
        assert '<meta name="robots" content="noindex">' in html
    # The cart page holds no shopper's data (the browser reads the cart): a page like any other.
    cart = page(Client(), shop_a, "/cart").content.decode()
    assert "<title>Your cart – Alpha</title>" in cart and "noindex" not in cart


def test_unknown_products_are_a_page_for_browsers_and_a_problem_for_programs(
    dist: Path, catalog: dict[str, Any], shop_a: ShopContext
) -> None:
    for path in ("/products/no-such-thing", "/products/hidden", "/no/such/page"):
        response = page(Client(), shop_a, path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "text/html; charset=utf-8"
        html = response.content.decode()
        assert '<meta name="robots" content="noindex">' in html
        assert '<a href="/">Go to Alpha</a>' in html
        assert_problem(Client().get(path, HTTP_HOST=shop_a.host, HTTP_ACCEPT="application/json"), 404)
        assert_problem(Client().get(path, HTTP_HOST=shop_a.host), 404)  # no Accept: a program


def test_an_unknown_shop_is_a_friendly_page_in_a_browser(db: None) -> None:
    response = Client().get("/", HTTP_HOST="nobody.localhost", **BROWSER)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>No shop here</h1>" in html and "nobody.localhost" in html
    body = assert_problem(
        Client().get("/", HTTP_HOST="nobody.localhost", HTTP_ACCEPT="application/json"), 404
    )
    assert body["code"] == "shop_not_found"
    assert_problem(Client().get("/api/storefront/v1/shop", HTTP_HOST="nobody.localhost", **BROWSER), 404)
    # A hostile host name is escaped, never markup.
    evil = Client().get("/", HTTP_HOST="a-b.localhost", HTTP_ACCEPT="text/html")
    assert evil.status_code == 404


def test_robots_and_sitemaps_list_what_is_on_sale(
    dist: Path, catalog: dict[str, Any], shop_a: ShopContext, api: Any
) -> None:
    api.put(
        "/api/admin/v1/pages/about",
        {"title": "About", "body": "Us."},
        format="json",
        **AdminClient(api, shop_a).headers,
    )
    client = Client()
    robots = client.get("/robots.txt", HTTP_HOST=shop_a.host)
    assert robots["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://alpha.localhost/sitemap.xml" in robots.content.decode()
    assert "Disallow: /checkout" in robots.content.decode()
    index = client.get("/sitemap.xml", HTTP_HOST=shop_a.host).content.decode()
    assert "<loc>http://alpha.localhost/sitemap-pages.xml</loc>" in index
    assert "<loc>http://alpha.localhost/sitemap-products-1.xml</loc>" in index
    pages = client.get("/sitemap-pages.xml", HTTP_HOST=shop_a.host).content.decode()
    assert "<loc>http://alpha.localhost/?category=teapots</loc>" in pages
    assert "<loc>http://alpha.localhost/pages/about</loc>" in pages
    products = client.get("/sitemap-products-1.xml", HTTP_HOST=shop_a.host).content.decode()
    assert "<loc>http://alpha.localhost/products/blue-teapot</loc>" in products
    assert "hidden" not in products
    assert_problem(client.get("/sitemap-products-2.xml", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.get("/sitemap-products-0.xml", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.get("/sitemap-products-99999999999999999999.xml", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.post("/sitemap.xml", HTTP_HOST=shop_a.host), 405)


def test_each_shop_has_its_own_sitemap_and_icon(
    shop_b: ShopContext, dist: Path, catalog: dict[str, Any], shop_a: ShopContext, api: Any
) -> None:
    assert (
        "blue-teapot" not in Client().get("/sitemap-products-1.xml", HTTP_HOST=shop_b.host).content.decode()
    )
    AdminClient(api, shop_a).patch("theme", {"brand_color": "#7a1f5c"})
    icon = Client().get("/favicon.svg", HTTP_HOST=shop_a.host)
    assert icon["Content-Type"] == "image/svg+xml"
    assert 'fill="#7a1f5c"' in icon.content.decode() and ">A</text>" in icon.content.decode()
    assert 'fill="#1f5fbf"' in Client().get("/favicon.ico", HTTP_HOST=shop_b.host).content.decode()


def test_script_json_cannot_end_its_script() -> None:
    text = script_json({"a": "</script><!-- \u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028 & >"}
