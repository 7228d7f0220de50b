"""The built SPA served by the app (config/spa.py), and CORS for the admin origin on shop hosts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer

ADMIN_ORIGIN = settings.CORS_ALLOWED_ORIGINS[0]


@pytest.fixture
def dist(tmp_path: Path, settings) -> Path:
    for app in ("storefront", "admin"):
        (tmp_path / app).mkdir()
        title = "Shop" if app == "storefront" else app  # the storefront's is replaced per route
        (tmp_path / app / "index.html").write_text(f"<!doctype html><title>{title}</title>")
    settings.SPA_DIST_DIR = tmp_path
    return tmp_path


def test_storefront_routes_get_the_storefront_html_uncached(dist: Path, shop_a: ShopContext) -> None:
    client = Client()
    for path in ("/", "/cart", "/orders/1001"):
        response = client.get(path, HTTP_HOST=shop_a.host)
        assert response.status_code == 200, path
        assert b"<title>" in response.content and b'id="storefleet-data"' in response.content
        assert response["Cache-Control"] == "no-cache"
        assert response["Content-Type"] == "text/html; charset=utf-8"


def test_storefront_fallback_leaves_api_media_and_files_alone(dist: Path, shop_a: ShopContext) -> None:
    client = Client()
    assert_problem(client.get("/api/storefront/v1/nope", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.get("/api/", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.get("/favicon.png", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.get("/admin/login/", HTTP_HOST=shop_a.host), 404)
    assert_problem(client.post("/cart", HTTP_HOST=shop_a.host), 405)


def test_admin_routes_on_the_platform_host(dist: Path, db: None) -> None:
    client = Client()
    for path in ("/app/", "/app/login", "/app/s/alpha/orders/1001"):
        response = client.get(path, **PLATFORM)
        assert response.status_code == 200, path
        assert b"<title>admin</title>" in response.content
        assert response["Cache-Control"] == "no-cache"
    assert client.get("/", **PLATFORM)["Location"] == "/app/"
    # The storefront's routes are not the platform's.
    assert_problem(client.get("/products/blue-mug", **PLATFORM), 404)


def test_unbuilt_frontend_is_a_problem_not_a_crash(tmp_path: Path, settings, shop_a: ShopContext) -> None:
    settings.SPA_DIST_DIR = tmp_path / "missing"
    body = assert_problem(Client().get("/", HTTP_HOST=shop_a.host), 503)
    assert body["code"] == "frontend_not_built"


def test_hashed_assets_are_cached_for_good() -> None:
    headers: dict[str, str] = {}
    settings.WHITENOISE_ADD_HEADERS_FUNCTION(headers, "x", "/static/spa/assets/index-Ab12_x9Z.js")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    other: dict[str, str] = {}
    settings.WHITENOISE_ADD_HEADERS_FUNCTION(other, "x", "/static/rest_framework/css/default.css")
    assert other == {}


def test_shop_hosts_allow_the_admin_origin_only(shop_a: ShopContext) -> None:
    client = Client()
    preflight = client.options(
        "/api/admin/v1/products",
        HTTP_HOST=shop_a.host,
        HTTP_ORIGIN=ADMIN_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == ADMIN_ORIGIN
    assert "idempotency-key" in preflight["Access-Control-Allow-Headers"]
    response = client.get(
        "/api/admin/v1/products", HTTP_HOST=shop_a.host, HTTP_ORIGIN=ADMIN_ORIGIN, **bearer(shop_a.token())
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ADMIN_ORIGIN

    evil = client.get(
        "/api/admin/v1/products",
        HTTP_HOST=shop_a.host,
        HTTP_ORIGIN="https://evil.example",
        **bearer(shop_a.token()),
    )
    assert "Access-Control-Allow-Origin" not in evil
    evil_preflight = client.options(
        "/api/admin/v1/products",
        HTTP_HOST=shop_a.host,
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in evil_preflight


def test_answers_without_an_origin_still_vary_on_it(shop_a: ShopContext) -> None:
    """Requests without Origin skip the CORS work, but caches must still key on Origin."""
    client = Client()
    for path in ("/api/storefront/v1/products", "/api/storefront/v1/products"):  # a miss, then a hit
        response = client.get(path, HTTP_HOST=shop_a.host)
        assert response.status_code == 200
        assert "origin" in response["Vary"].lower()
        assert "Access-Control-Allow-Origin" not in response
    with_origin = client.get("/api/storefront/v1/products", HTTP_HOST=shop_a.host, HTTP_ORIGIN=ADMIN_ORIGIN)
    assert with_origin["X-Cache"] == "hit"
    assert with_origin["Access-Control-Allow-Origin"] == ADMIN_ORIGIN
    preflight = client.options(
        "/api/admin/v1/products", HTTP_HOST=shop_a.host, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def test_platform_host_sends_no_cors_headers(db: None) -> None:
    response = Client().get("/api/platform/v1/me", HTTP_ORIGIN=ADMIN_ORIGIN, **PLATFORM)
    assert "Access-Control-Allow-Origin" not in response
