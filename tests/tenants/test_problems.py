"""
Errors are problems everywhere, in every mode (issue 15): unknown routes, path
parameters that do not match, malformed hosts, methods a resource lacks, failed
authentication and server errors all answer `application/problem+json` with a
`type` URI per kind of error documented in docs/problems.md, with DEBUG on too,
where Django would otherwise send its HTML pages with settings and a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework import exceptions as drf_exceptions

from catalog.api import uploads
from tenants.conventions.problems import STATUS_CODES, problem_type
from tenants.errors import DomainError
from tests.conftest import ShopContext, assert_problem, documented_problem_codes

DEBUG_MODES = [pytest.param(False, id="debug-off"), pytest.param(True, id="debug-on")]


@pytest.fixture(params=DEBUG_MODES)
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def _host(where: str, shop: ShopContext) -> str:
    return settings.PLATFORM_HOST if where == "platform" else shop.host


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "method", "path"),
    [
        ("shop", "get", "/api/admin/v1/nope"),
        ("shop", "post", "/api/admin/v1/nope"),
        ("shop", "get", "/api/storefront/v1/nope"),
        ("shop", "get", "/api/admin/v1/api-keys/abc"),  # the id is not a number
        ("shop", "delete", "/api/admin/v1/products/1.5"),
        ("shop", "get", "/static/nope.js"),
        ("platform", "get", "/api/platform/v1/nope"),
        ("platform", "get", "/api/platform/v1/shops/al%20pha"),  # not a slug
        ("platform", "put", "/nope.txt"),
    ],
)
def test_unknown_routes_and_bad_path_parameters_are_404_problems(
    api, shop_a, debug, where, method, path
) -> None:
    response = getattr(api, method)(path, HTTP_HOST=_host(where, shop_a))
    body = assert_problem(response, 404)
    assert body["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["bad host!", "[::1", "example.com:abc", "shop.example.com/x"])
def test_malformed_hosts_are_400_problems(api, debug, host) -> None:
    body = assert_problem(api.get("/api/platform/v1/me", HTTP_HOST=host), 400)
    assert body["code"] == "bad_host"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "method", "path", "allow"),
    [
        ("shop", "put", "/api/admin/v1/products", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("shop", "patch", "/api/admin/v1/api-keys", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("shop", "delete", "/api/storefront/v1/shop", {"GET", "HEAD", "OPTIONS"}),
        ("platform", "delete", "/api/platform/v1/me", {"GET", "HEAD", "OPTIONS"}),
    ],
)
@pytest.mark.parametrize("credentials", ["none", "bogus", "owner"])
def test_a_method_the_resource_lacks_is_405_before_authentication(
    api, shop_a, debug, where, method, path, allow, credentials
) -> None:
    """Was: PUT on an Admin API list answered 403 even without credentials."""
    headers = {"HTTP_HOST": _host(where, shop_a)}
    if credentials == "bogus":
        headers["HTTP_AUTHORIZATION"] = "Bearer not.a.token"
    elif credentials == "owner":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {shop_a.token()}"
    body = assert_problem(getattr(api, method)(path, {}, format="json", **headers), 405)
    assert body["code"] == "method_not_allowed"
    response = getattr(api, method)(path, {}, format="json", **headers)
    assert {m.strip() for m in response["Allow"].split(",")} == allow


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["platform", "shop"])
def test_an_invalid_jwt_gets_one_clean_detail_and_its_own_type(api, shop_a, debug, where) -> None:
    """Was: `type: about:blank` and SimpleJWT's whole error dict as a JSON string in `detail`."""
    path = "/api/platform/v1/me" if where == "platform" else "/api/admin/v1/products"
    response = api.get(path, HTTP_HOST=_host(where, shop_a), HTTP_AUTHORIZATION="Bearer a.b.c")
    body = assert_problem(response, 401)
    assert body["code"] == "token_not_valid"
    assert body["type"] == "https://storefleet.dev/problems/token-not-valid"
    assert body["detail"] == "Given token not valid for any token type"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_missing_credentials_are_401_with_a_challenge(api, shop_a, debug) -> None:
    response = api.get("/api/admin/v1/products", HTTP_HOST=shop_a.host)
    assert assert_problem(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"]


@pytest.mark.django_db
def test_an_error_in_a_plain_django_view_is_a_problem_with_debug_on(
    api, shop_a, settings, monkeypatch
) -> None:
    """Views outside DRF (local uploads and media) answer problems, not debug pages."""
    settings.DEBUG = True
    settings.STORAGE = "local"
    api.raise_request_exception = False

    def broken(key: str) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(uploads.storage, "local_media_path", broken)
    response = api.get("/media/some/key.png", HTTP_HOST=shop_a.host)
    body = assert_problem(response, 500)
    assert body["code"] == "server_error"
    assert "Traceback" not in response.content.decode() and "SECRET_KEY" not in response.content.decode()


@pytest.mark.django_db
def test_django_admin_forms_without_csrf_get_a_problem(api, debug) -> None:
    api.enforce_csrf_checks = True
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x"}, HTTP_HOST=settings.PLATFORM_HOST)
    assert assert_problem(response, 403)["code"] == "csrf_failed"


@pytest.mark.django_db
def test_append_slash_still_redirects(api, debug) -> None:
    response = api.get("/admin", HTTP_HOST=settings.PLATFORM_HOST)
    assert response.status_code == 301 and response["Location"] == "/admin/"


# --- docs/problems.md describes every problem type ------------------------------------


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _codes_in_source() -> set[str]:
    """Codes passed literally to the problem formatter or to DRF exceptions anywhere in our code."""
    codes: set[str] = set()
    base = Path(settings.BASE_DIR)
    for folder in ("tenants", "billing", "catalog", "orders", "config"):
        for path in (base / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                codes |= set(re.findall(r'\bcode="([a-z_]+)"', path.read_text()))
    return codes


def test_every_problem_code_has_a_documented_type() -> None:
    import config.urls_public
    import config.urls_tenant  # noqa: F401  (import every view, and with them every error class)

    codes = {str(cls.code) for cls in _subclasses(DomainError)}
    codes |= set(STATUS_CODES.values())
    codes |= {str(cls.default_code) for cls in _subclasses(drf_exceptions.APIException)}
    codes |= _codes_in_source()
    # SimpleJWT's own codes
    codes |= {"bad_authorization_header", "no_active_account", "user_inactive", "password_changed"}
    missing = codes - documented_problem_codes()
    assert not missing, f"add these to docs/problems.md: {sorted(missing)}"
    assert problem_type("insufficient_stock") == "https://storefleet.dev/problems/insufficient-stock"
