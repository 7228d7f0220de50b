"""API conventions implemented once: problems, pagination, money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from catalog.models import Product
from tenants.api import views
from tenants.models import ApiKey, Shop
from tenants.money import Money, parse_amount
from tenants.schemas import use_public, use_shop
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer

# Every POST/PATCH endpoint, with a host and whether it needs the shop owner's token.
WRITE_ENDPOINTS = [
    ("post", "/api/platform/v1/auth/signup", "platform", False),
    ("post", "/api/platform/v1/auth/token", "platform", False),
    ("post", "/api/platform/v1/auth/token/refresh", "platform", False),
    ("post", "/api/platform/v1/auth/logout", "platform", False),
    ("post", "/api/platform/v1/shops", "platform", True),
    ("patch", "/api/platform/v1/shops/alpha", "platform", True),
    ("post", "/api/admin/v1/api-keys", "shop", True),
]


def _call(api: APIClient, ctx: ShopContext, method: str, path: str, where: str, auth: bool, **kwargs):
    host = PLATFORM if where == "platform" else {"HTTP_HOST": ctx.host}
    headers = bearer(ctx.token()) if auth else {}
    return getattr(api, method)(path, **kwargs, **host, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "where", "auth"), WRITE_ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('{"a": 1', "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("null", "application/json", 400),
        ("name=x", "application/x-www-form-urlencoded", 415),
        ("<xml/>", "text/xml", 415),
    ],
)
def test_bad_bodies_get_problems_and_change_nothing(
    api, shop_a: ShopContext, method, path, where, auth, body, content_type, status
) -> None:
    shops, keys = Shop.objects.count(), ApiKey.objects.count()
    name = shop_a.shop.name
    response = _call(api, shop_a, method, path, where, auth, data=body, content_type=content_type)
    assert response.status_code in (status, 401), response.content  # token endpoints: 400 or 401
    assert response["Content-Type"] == "application/problem+json"
    assert (Shop.objects.count(), ApiKey.objects.count()) == (shops, keys)
    shop_a.shop.refresh_from_db()
    assert shop_a.shop.name == name


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "where", "auth"), WRITE_ENDPOINTS)
def test_huge_bodies_are_413(api, shop_a: ShopContext, method, path, where, auth) -> None:
    huge = '{"name": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = _call(api, shop_a, method, path, where, auth, data=huge, content_type="application/json")
    assert_problem(response, 413)


@pytest.mark.django_db
def test_validation_errors_name_each_field(api) -> None:
    response = api.post(
        "/api/platform/v1/auth/signup", {"email": "nope", "password": 7}, format="json", **PLATFORM
    )
    body = assert_problem(response, 400)
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == {"email", "password"}
    assert all(isinstance(m, list) and m for m in body["errors"].values())


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_an_unexpected_error_is_a_500_problem_without_internals(
    api, shop_a: ShopContext, monkeypatch
) -> None:
    def explode(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.StorefrontShopView, "get", explode)
    client = APIClient(raise_request_exception=False)
    body = assert_problem(client.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host), 500)
    assert "secret" not in str(body)


@pytest.mark.django_db
def test_cursor_pages_walk_the_whole_list_once(api, shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    Product.objects.bulk_create(Product(title=f"P{i:02}", slug=f"p{i:02}") for i in range(25))
    use_public()
    seen: list[str] = []
    url: str | None = "/api/admin/v1/products?limit=10"
    pages = 0
    while url:
        body = api.get(url, HTTP_HOST=shop_a.host, **bearer(shop_a.token())).json()
        assert set(body) == {"results", "next", "previous"}
        assert len(body["results"]) <= 10
        seen += [p["title"] for p in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert seen == [f"P{i:02}" for i in reversed(range(25))]
    default = api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **bearer(shop_a.token())).json()
    assert len(default["results"]) == 20
    most = api.get("/api/admin/v1/products?limit=100", HTTP_HOST=shop_a.host, **bearer(shop_a.token())).json()
    assert len(most["results"]) == 25  # at most 100, and only 25 exist


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    # 101 and up were silently capped at 100, which the document's `maximum` now says is refused.
    ["limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=101", "limit=999999"]
    + ["cursor=garbage", "cursor=%00"],
)
def test_bad_paging_parameters_are_400(api, shop_a: ShopContext, query: str) -> None:
    response = api.get(f"/api/admin/v1/products?{query}", HTTP_HOST=shop_a.host, **bearer(shop_a.token()))
    assert_problem(response, 400)


def test_money_is_a_decimal_string_with_its_currency() -> None:
    assert Money(Decimal("19.990"), "EUR").as_json() == {"amount": "19.99", "currency": "EUR"}
    assert Money(Decimal("1500"), "JPY").as_json() == {"amount": "1500", "currency": "JPY"}
    assert Money(Decimal("1.2345"), "KWD").as_json() == {"amount": "1.234", "currency": "KWD"}
    assert (Money(Decimal("0.10"), "USD") + Money(Decimal("0.20"), "USD")).amount == Decimal("0.30")
    assert (Money(Decimal("2.50"), "EUR") * 3).as_json()["amount"] == "7.50"
    with pytest.raises(ValueError):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")
    with pytest.raises(ValueError):
        Money(Decimal(1), "XXX")


@pytest.mark.parametrize("bad", [19.99, True, "abc", "1e400x", "NaN", "Infinity", "1.999"])
def test_parse_amount_refuses_floats_junk_and_extra_places(bad) -> None:
    with pytest.raises(ValueError):
        parse_amount(bad, "EUR")


def test_parse_amount_accepts_decimal_strings() -> None:
    assert parse_amount("19.99", "EUR") == Decimal("19.99")
    assert parse_amount("1500", "JPY") == Decimal("1500")
    with pytest.raises(ValueError):
        parse_amount("15.5", "JPY")


@pytest.mark.parametrize("huge", ["304269480140972375601800533660.278858209", "9" * 60, "1e999999"])
def test_parse_amount_refuses_absurd_numbers(huge: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(huge, "EUR")
