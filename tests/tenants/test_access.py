"""Platform users, JWTs, memberships, per-shop API keys and their scopes."""

from __future__ import annotations

import pytest

from tenants.models import ApiKey, Membership, User
from tests.conftest import PASSWORD, PLATFORM, ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/api/platform/v1/auth/signup"
TOKEN = "/api/platform/v1/auth/token"


def test_signup_token_refresh_and_me(api, shop_a: ShopContext) -> None:
    response = api.post(
        SIGNUP, {"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}, format="json", **PLATFORM
    )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "ada@example.com"
    assert "password" not in response.json()

    pair = api.post(
        TOKEN, {"email": "ada@example.com", "password": PASSWORD}, format="json", **PLATFORM
    ).json()
    refreshed = api.post(
        "/api/platform/v1/auth/token/refresh", {"refresh": pair["refresh"]}, format="json", **PLATFORM
    )
    assert refreshed.status_code == 200
    me = api.get("/api/platform/v1/me", **PLATFORM, **bearer(refreshed.json()["access"])).json()
    assert me["email"] == "ada@example.com"
    assert me["memberships"] == []

    owner_me = api.get("/api/platform/v1/me", **PLATFORM, **bearer(shop_a.token())).json()
    assert owner_me["memberships"] == [
        {"shop": "alpha", "shop_name": "Alpha", "domain": "alpha.localhost", "role": "owner"}
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, 400),
        ({"email": "short@example.com", "password": "123"}, 400),
        ({"email": "x@example.com"}, 400),
        ({"email": 5, "password": PASSWORD}, 400),
        ({"email": "x@example.com", "password": ["list"]}, 400),
        ({"email": "x@example.com", "password": "a" * 10_000}, 400),
    ],
)
def test_signup_refuses_bad_input(api, body, status: int) -> None:
    assert_problem(api.post(SIGNUP, body, format="json", **PLATFORM), status)
    assert not User.objects.filter(email="x@example.com").exists()


def test_signup_with_a_taken_email_is_a_409(api) -> None:
    make_user("taken@example.com")
    body = assert_problem(
        api.post(SIGNUP, {"email": "TAKEN@example.com", "password": PASSWORD}, format="json", **PLATFORM), 409
    )
    assert body["code"] == "email_taken"


def test_wrong_password_and_bad_tokens_are_401(api) -> None:
    make_user("sam@example.com")
    assert_problem(
        api.post(TOKEN, {"email": "sam@example.com", "password": "wrong"}, format="json", **PLATFORM), 401
    )
    assert_problem(api.get("/api/platform/v1/me", **PLATFORM, **bearer("garbage")), 401)
    assert_problem(
        api.post("/api/platform/v1/auth/token/refresh", {"refresh": "garbage"}, format="json", **PLATFORM),
        401,
    )
    assert_problem(api.get("/api/platform/v1/me", **PLATFORM), 401)


def test_jwt_opens_only_shops_where_the_user_is_a_member(
    api, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    assert (
        api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **bearer(shop_a.token())).status_code == 200
    )
    body = assert_problem(
        api.get("/api/admin/v1/products", HTTP_HOST=shop_b.host, **bearer(shop_a.token())), 403
    )
    assert "not a member" in body["detail"]
    assert_problem(api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host), 401)


def test_staff_member_can_read_but_not_manage_keys(api, shop_a: ShopContext) -> None:
    clerk = make_user("clerk@example.com")
    Membership.objects.create(user=clerk, shop=shop_a.shop, role=Membership.Role.STAFF)
    token = shop_a.token(clerk)
    assert api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **bearer(token)).status_code == 200
    assert_problem(api.get("/api/admin/v1/api-keys", HTTP_HOST=shop_a.host, **bearer(token)), 403)
    response = api.post(
        "/api/admin/v1/api-keys",
        {"name": "x", "scopes": ["catalog:read"]},
        format="json",
        HTTP_HOST=shop_a.host,
        **bearer(token),
    )
    assert_problem(response, 403)
    assert not ApiKey.objects.exists()


def _create_key(api, ctx: ShopContext, scopes: list[str]) -> dict[str, object]:
    response = api.post(
        "/api/admin/v1/api-keys",
        {"name": "Integration", "scopes": scopes},
        format="json",
        HTTP_HOST=ctx.host,
        **bearer(ctx.token()),
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_api_key_is_shown_once_and_stored_hashed(api, shop_a: ShopContext) -> None:
    created = _create_key(api, shop_a, ["catalog:read", "orders:read"])
    key = created["key"]
    assert isinstance(key, str) and key.startswith(f"sf_{created['prefix']}_")
    stored = ApiKey.objects.get(pk=created["id"])
    assert key not in stored.secret_hash and len(stored.secret_hash) == 64
    listed = api.get("/api/admin/v1/api-keys", HTTP_HOST=shop_a.host, **bearer(shop_a.token())).json()[
        "results"
    ]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]


def test_api_key_scopes_are_enforced(api, shop_a: ShopContext) -> None:
    reader = _create_key(api, shop_a, ["orders:read"])["key"]
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {reader}"}
    body = assert_problem(api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **auth), 403)
    assert "catalog:read" in body["detail"]
    catalog = _create_key(api, shop_a, ["catalog:read"])["key"]
    response = api.get(
        "/api/admin/v1/products", HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Api-Key {catalog}"
    )
    assert response.status_code == 200
    # Keys cannot manage keys, whatever their scopes.
    assert_problem(
        api.get("/api/admin/v1/api-keys", HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Api-Key {catalog}"), 403
    )


def test_revoked_key_stops_working_at_once(api, shop_a: ShopContext) -> None:
    created = _create_key(api, shop_a, ["catalog:read"])
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {created['key']}"}
    assert api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **auth).status_code == 200
    revoked = api.delete(
        f"/api/admin/v1/api-keys/{created['id']}", HTTP_HOST=shop_a.host, **bearer(shop_a.token())
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, **auth), 401)


def test_shop_a_key_is_refused_on_shop_b(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    key = _create_key(api, shop_a, ["catalog:read"])["key"]
    assert_problem(
        api.get("/api/admin/v1/products", HTTP_HOST=shop_b.host, HTTP_AUTHORIZATION=f"Api-Key {key}"), 401
    )
    # Nor can shop B's owner see or revoke shop A's keys by id.
    key_id = ApiKey.objects.get().pk
    assert_problem(
        api.get(f"/api/admin/v1/api-keys/{key_id}", HTTP_HOST=shop_b.host, **bearer(shop_b.token())), 404
    )
    assert_problem(
        api.delete(f"/api/admin/v1/api-keys/{key_id}", HTTP_HOST=shop_b.host, **bearer(shop_b.token())), 404
    )
    assert ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key",
        "Api-Key nonsense",
        "Api-Key sf_short_x",
        "Api-Key sf_0123456789ab_wrongsecret",
        "Bearer",
        "Basic abc",
    ],
)
def test_malformed_credentials_are_401(api, shop_a: ShopContext, header: str) -> None:
    assert_problem(api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=header), 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": 3, "scopes": ["catalog:read"]},
        {"name": "x", "scopes": "catalog:read"},
    ],
)
def test_bad_api_key_input_creates_nothing(api, shop_a: ShopContext, body) -> None:
    response = api.post(
        "/api/admin/v1/api-keys", body, format="json", HTTP_HOST=shop_a.host, **bearer(shop_a.token())
    )
    assert_problem(response, 400)
    assert not ApiKey.objects.exists()


def test_unknown_api_key_id_is_404(api, shop_a: ShopContext) -> None:
    assert_problem(
        api.get("/api/admin/v1/api-keys/999999", HTTP_HOST=shop_a.host, **bearer(shop_a.token())), 404
    )


def test_shop_settings_read_and_update(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    url = "/api/platform/v1/shops/alpha"
    assert api.get(url, **PLATFORM, **bearer(shop_a.token())).json()["domain"] == "alpha.localhost"
    updated = api.patch(
        url, {"name": "Alpha Two", "currency": "CHF"}, format="json", **PLATFORM, **bearer(shop_a.token())
    )
    assert updated.status_code == 200 and updated.json()["currency"] == "CHF"
    assert api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host).json()["name"] == "Alpha Two"
    assert_problem(api.get(url, **PLATFORM, **bearer(shop_b.token())), 404)
    assert_problem(
        api.patch(url, {"currency": "ZZZ"}, format="json", **PLATFORM, **bearer(shop_a.token())), 400
    )
    listed = api.get("/api/platform/v1/shops", **PLATFORM, **bearer(shop_a.token())).json()
    assert [s["slug"] for s in listed["results"]] == ["alpha"]
