"""Custom domains: `shops/{slug}/domains`, routed at once, validated, unique."""

from __future__ import annotations

import pytest

from tenants.models import Domain, Membership
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db


def _domains(api, ctx: ShopContext, token: str | None = None, method: str = "get", body=None, suffix=""):
    path = f"/api/platform/v1/shops/{ctx.shop.slug}/domains{suffix}"
    return getattr(api, method)(path, body, format="json", **PLATFORM, **bearer(token or ctx.token()))


def test_add_list_route_and_remove_a_custom_domain(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    assert api.get("/api/storefront/v1/shop", HTTP_HOST="shop.alpha-example.com").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = _domains(api, shop_a, method="post", body={"domain": " Shop.Alpha-Example.COM. "})
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["domain"] == "shop.alpha-example.com" and added["is_primary"] is False
    listed = _domains(api, shop_a).json()["results"]
    assert [d["domain"] for d in listed] == ["shop.alpha-example.com", shop_a.host]  # newest first
    assert [d["is_primary"] for d in listed] == [False, True]
    # Routed at once, even though the unknown host had been cached as unknown.
    shop = api.get("/api/storefront/v1/shop", HTTP_HOST="shop.alpha-example.com")
    assert shop.status_code == 200 and shop.json()["slug"] == shop_a.shop.slug

    with django_capture_on_commit_callbacks(execute=True):
        removed = _domains(api, shop_a, method="delete", suffix=f"/{added['id']}")
    assert removed.status_code == 204
    assert_problem(api.get("/api/storefront/v1/shop", HTTP_HOST="shop.alpha-example.com"), 404)


def test_internationalised_names_are_stored_as_punycode(api, shop_a: ShopContext) -> None:
    response = _domains(api, shop_a, method="post", body={"domain": "bücher.example"})
    assert response.status_code == 201 and response.json()["domain"] == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "body",
    [
        {"domain": "1.2.3.4"},
        {"domain": "localhost"},
        {"domain": "nodot"},
        {"domain": "under_score.example.com"},
        {"domain": "-leading.example.com"},
        {"domain": "trailing-.example.com"},
        {"domain": "a..b.example.com"},
        {"domain": f"{'a' * 64}.example.com"},
        {"domain": ".".join(["abcdefghi"] * 26) + ".com"},
        {"domain": "shop.example.com/path"},
        {"domain": "http://shop.example.com"},
        {"domain": "shop.example.123"},
        {"domain": ""},
        {"domain": 123},
        {"domain": None},
        {"domain": ["shop.example.com"]},
        {},
    ],
)
def test_bad_hostnames_are_refused(api, shop_a: ShopContext, body) -> None:
    body_ = assert_problem(_domains(api, shop_a, method="post", body=body), 400)
    assert "domain" in body_["errors"]
    assert Domain.objects.filter(tenant=shop_a.shop).count() == 1


@pytest.mark.parametrize("name", ["localhost", "bravo.localhost", "anything.localhost", "storefleet.dev"])
def test_platform_hostnames_are_reserved(api, shop_a: ShopContext, name: str) -> None:
    body = assert_problem(_domains(api, shop_a, method="post", body={"domain": name}), 400)
    assert body["code"] in ("domain_reserved", "domain_invalid")


def test_a_hostname_routes_to_one_shop_only(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    assert _domains(api, shop_a, method="post", body={"domain": "taken.example.com"}).status_code == 201
    body = assert_problem(_domains(api, shop_b, method="post", body={"domain": "TAKEN.example.com"}), 409)
    assert body["code"] == "domain_taken"
    assert_problem(_domains(api, shop_b, method="post", body={"domain": shop_a.host}), 400)  # reserved


def test_malformed_json_and_wrong_content_type(api, shop_a: ShopContext) -> None:
    path = f"/api/platform/v1/shops/{shop_a.shop.slug}/domains"
    headers = {**PLATFORM, **bearer(shop_a.token())}
    assert_problem(api.generic("POST", path, "{nope", content_type="application/json", **headers), 400)
    assert_problem(api.generic("POST", path, "domain=x.com", content_type="text/plain", **headers), 415)


def test_primary_and_foreign_domains_cannot_be_removed(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    primary = Domain.objects.get(tenant=shop_a.shop, is_primary=True)
    assert assert_problem(_domains(api, shop_a, method="delete", suffix=f"/{primary.pk}"), 409)["code"] == (
        "domain_primary"
    )
    other = _domains(api, shop_b, method="post", body={"domain": "bravo.example.org"}).json()
    assert_problem(_domains(api, shop_a, method="delete", suffix=f"/{other['id']}"), 404)
    assert_problem(_domains(api, shop_a, method="delete", suffix="/999999"), 404)
    assert Domain.objects.filter(pk=other["id"]).exists()


def test_who_may_change_domains(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    staff_member = make_user("clerk@alpha.example")
    Membership.objects.create(user=staff_member, shop=shop_a.shop, role=Membership.Role.STAFF)
    token = shop_a.token(staff_member)
    assert _domains(api, shop_a, token).status_code == 200  # members may look
    assert_problem(_domains(api, shop_a, token, method="post", body={"domain": "clerk.example.com"}), 403)
    # Another shop's owner sees no such shop.
    assert_problem(_domains(api, shop_a, shop_b.token()), 404)
    stranger = shop_b.token()
    assert_problem(_domains(api, shop_a, stranger, method="post", body={"domain": "x.example.com"}), 404)
    assert not Domain.objects.filter(domain__in=["clerk.example.com", "x.example.com"]).exists()


def test_domain_count_is_bounded(api, shop_a: ShopContext, settings) -> None:
    settings.SHOP_MAX_DOMAINS = 2
    assert _domains(api, shop_a, method="post", body={"domain": "one.example.com"}).status_code == 201
    body = assert_problem(_domains(api, shop_a, method="post", body={"domain": "two.example.com"}), 409)
    assert body["code"] == "domain_limit"
