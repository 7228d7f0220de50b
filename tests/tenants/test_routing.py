"""Host → schema routing: platform host, shop subdomains, custom domains, unknown hosts."""

from __future__ import annotations

import pytest

from catalog.models import Product
from tenants.models import Domain
from tenants.schemas import use_public
from tests.conftest import PLATFORM, ShopContext, assert_problem

pytestmark = pytest.mark.django_db


def test_shop_host_answers_its_own_shop(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    assert response.status_code == 200
    assert response.json() == {"name": "Alpha", "slug": "alpha", "currency": "EUR"}
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=f"{shop_b.host}:8000")
    assert response.json()["slug"] == "bravo"


def test_custom_domain_routes_to_the_shop(api, shop_a: ShopContext) -> None:
    Domain.objects.create(domain="www.alpha-store.example", tenant=shop_a.shop, is_primary=False)
    response = api.get("/api/storefront/v1/shop", HTTP_HOST="WWW.Alpha-Store.example.")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


def test_unknown_host_is_a_404_problem_and_no_shop(api, shop_a: ShopContext) -> None:
    body = assert_problem(api.get("/api/storefront/v1/shop", HTTP_HOST="nobody.localhost"), 404)
    assert body["code"] == "shop_not_found"
    assert "alpha" not in str(body)


@pytest.mark.parametrize("host", ["bad host!", "a" * 300, "exa mple.com", "x..y"])
def test_malformed_host_is_a_400_problem(api, host: str) -> None:
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=host)
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_platform_host_serves_platform_urls_only(api, shop_a: ShopContext) -> None:
    assert api.get("/api/platform/v1/plans-does-not-exist", **PLATFORM).status_code == 404
    assert_problem(api.get("/api/storefront/v1/shop", **PLATFORM), 404)
    assert_problem(api.get("/api/platform/v1/me", HTTP_HOST=shop_a.host), 404)


def test_unknown_path_and_method_are_problems(api, shop_a: ShopContext) -> None:
    # Other paths without a file extension are the storefront SPA's routes (tests/test_spa.py).
    assert_problem(api.get("/api/nothing/here", HTTP_HOST=shop_a.host), 404)
    response = api.delete("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_each_shop_sees_only_its_own_rows(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    shop_a.shop.activate()
    Product.objects.create(title="Alpha tee", slug="alpha-tee")
    shop_b.shop.activate()
    Product.objects.create(title="Bravo mug", slug="bravo-mug")
    use_public()

    titles_a = [p["title"] for p in _products(api, shop_a)]
    titles_b = [p["title"] for p in _products(api, shop_b)]
    assert titles_a == ["Alpha tee"]
    assert titles_b == ["Bravo mug"]


def _products(api, ctx: ShopContext) -> list[dict[str, object]]:
    response = api.get(
        "/api/admin/v1/products", HTTP_HOST=ctx.host, HTTP_AUTHORIZATION=f"Bearer {ctx.token()}"
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_health_endpoints_answer_on_every_host(api, shop_a: ShopContext) -> None:
    for host in ("localhost", shop_a.host, "10.1.2.3", "unknown.example"):
        assert api.get("/healthz", HTTP_HOST=host).json() == {"status": "ok"}
        ready = api.get("/readyz", HTTP_HOST=host)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_django_admin_is_on_the_platform_host_only(client, shop_a: ShopContext) -> None:
    from tenants.models import User

    assert client.get("/admin/login/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/admin/login/", HTTP_HOST=shop_a.host).status_code == 404
    User.objects.create_superuser("staff@storefleet.example", "pw-staff-123", name="Staff")
    assert client.login(email="staff@storefleet.example", password="pw-staff-123")
    page = client.get("/admin/tenants/shop/", HTTP_HOST="localhost")
    assert page.status_code == 200
    assert b"alpha" in page.content
    assert (
        client.get(f"/admin/tenants/shop/{shop_a.shop.pk}/change/", HTTP_HOST="localhost").status_code == 200
    )
    assert client.get("/admin/tenants/membership/", HTTP_HOST="localhost").status_code == 200
