"""
The OpenAPI documents (docs/api.md): one for the Platform API on the
platform host, one for the Storefront and Admin APIs on a shop host, each at
`/api/schema/` with Swagger UI at `/api/docs/`. They validate, drf-spectacular
generates them without a warning, they list every path, auth scheme and
problem response, and Schemathesis fuzzing each operation through the real
WSGI stack (host routing, auth, idempotency) never gets a 5xx.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections, transaction
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_spec
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.accounts import customer_address_create, customer_signup
from orders.tokens import customer_tokens_mint
from tenants import services
from tenants.audit.services import Actor
from tenants.models import ApiKey, Membership
from tenants.outbox.services import event_record
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services as webhooks
from tests.conftest import PASSWORD, ShopContext

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_TYPE = "application/problem+json"

URLCONFS = {"platform": settings.PUBLIC_SCHEMA_URLCONF, "shop": settings.ROOT_URLCONF}

EXPECTED_PATHS = {
    "platform": {
        "/api/platform/v1/auth/signup",
        "/api/platform/v1/auth/token",
        "/api/platform/v1/auth/token/refresh",
        "/api/platform/v1/me",
        "/api/platform/v1/shops",
        "/api/platform/v1/shops/{slug}",
        "/api/platform/v1/shops/{slug}/suspend",
        "/api/platform/v1/shops/{slug}/reactivate",
        "/api/platform/v1/shops/{slug}/export",
        "/api/platform/v1/shops/{slug}/exports/{export_id}",
        "/api/platform/v1/shops/{slug}/domains",
        "/api/platform/v1/shops/{slug}/domains/{domain_id}",
        "/api/platform/v1/shops/{slug}/members",
        "/api/platform/v1/shops/{slug}/members/{member_id}",
        "/api/platform/v1/plans",
        "/api/platform/v1/shops/{slug}/subscription",
        "/api/platform/v1/shops/{slug}/usage",
        "/api/platform/v1/shops/{slug}/invoices",
        "/api/platform/v1/shops/{slug}/invoices/upcoming",
    },
    "shop": {
        "/api/storefront/v1/shop",
        "/api/admin/v1/products",
        "/api/admin/v1/api-keys",
        "/api/admin/v1/api-keys/{api_key_id}",
        "/api/admin/v1/webhooks",
        "/api/admin/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    },
}
EXPECTED_SECURITY_SCHEMES = {
    "platform": {"jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
    "shop": {
        "jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"},
        "customerJwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    },
}


def _generate(document: str) -> dict[str, Any]:
    """Generate a document the way `manage.py spectacular --urlconf ...` does."""
    return SchemaGenerator(urlconf=URLCONFS[document]).get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            yield path, method, operation


def _host(document: str, shop: ShopContext) -> str:
    return settings.PLATFORM_HOST if document == "platform" else shop.host


@pytest.fixture
def documents(api, shop_a: ShopContext) -> dict[str, dict[str, Any]]:
    """Both documents, as clients get them: over HTTP, on their hosts, as JSON."""
    fetched = {}
    for document in ("platform", "shop"):
        response = api.get("/api/schema/", HTTP_HOST=_host(document, shop_a), HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/json")
        fetched[document] = json.loads(response.content)
    return fetched


# --- The documents --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_document_is_valid_openapi_3_1(documents, document) -> None:
    schema = documents[document]
    assert schema["openapi"].startswith("3.1")
    validate_spec(schema)  # openapi-spec-validator: raises on any error
    validate_schema(schema)  # drf-spectacular's own check against the OAS 3.1 JSON schema


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_document_lists_the_expected_paths(documents, document) -> None:
    assert EXPECTED_PATHS[document] <= set(documents[document]["paths"])


@pytest.mark.django_db
def test_each_host_documents_only_its_own_apis(documents) -> None:
    assert all(path.startswith("/api/platform/") for path in documents["platform"]["paths"])
    assert all(path.startswith(("/api/storefront/", "/api/admin/")) for path in documents["shop"]["paths"])


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_document_lists_its_security_schemes(documents, document) -> None:
    schemes = documents[document]["components"]["securitySchemes"]
    assert set(schemes) == set(EXPECTED_SECURITY_SCHEMES[document])
    for name, expected in EXPECTED_SECURITY_SCHEMES[document].items():
        assert expected.items() <= schemes[name].items(), (name, schemes[name])


@pytest.mark.django_db
def test_operations_name_the_auth_they_accept(documents) -> None:
    platform = documents["platform"]["paths"]
    for path in (
        "/api/platform/v1/auth/signup",
        "/api/platform/v1/auth/token",
        "/api/platform/v1/auth/token/refresh",
    ):
        assert platform[path]["post"]["security"] == [], path  # no credentials needed
    assert platform["/api/platform/v1/plans"]["get"]["security"] == []  # plans are public
    for path, method in (("/api/platform/v1/me", "get"), ("/api/platform/v1/shops", "post")):
        assert platform[path][method]["security"] == [{"jwtAuth": []}]
    shop = documents["shop"]["paths"]
    for path, method, operation in _operations(documents["shop"]):
        if path.startswith("/api/admin/"):
            assert operation["security"] == [{"jwtAuth": []}, {"apiKeyAuth": []}], (method, path)
    assert shop["/api/storefront/v1/shop"]["get"]["security"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_every_operation_documents_problem_responses(documents, document) -> None:
    schema = documents[document]
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        expected = {"400", "404", "500"}
        if method in ("post", "put", "patch"):
            expected |= {"413", "415"}
        security = operation.get("security") or []
        if security and {} not in security:
            expected |= {"401", "403"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                content = response.get("content", {})
                assert list(content) == [PROBLEM_TYPE], (method, path, code)
                assert content[PROBLEM_TYPE]["schema"] == {"$ref": PROBLEM_REF}, (method, path, code)
                assert response["description"], (method, path, code)
        assert any(code.startswith("2") for code in responses), (method, path)


@pytest.mark.django_db
def test_operation_ids_are_unique_and_ours(documents) -> None:
    ids = [op["operationId"] for doc in documents.values() for _path, _method, op in _operations(doc)]
    assert len(ids) == len(set(ids))
    platform = {op["operationId"] for _p, _m, op in _operations(documents["platform"])}
    assert {"auth_signup", "auth_token", "auth_token_refresh", "me", "shops_list", "shops_create"} <= platform


@pytest.mark.django_db
def test_document_details_match_the_api(documents) -> None:
    platform, shop = documents["platform"]["paths"], documents["shop"]["paths"]
    # SimpleJWT's views: what they answer, 401 included.
    token = platform["/api/platform/v1/auth/token"]["post"]["responses"]
    token_schema = token["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(documents["platform"]["components"]["schemas"][token_schema]["properties"]) == {
        "access",
        "refresh",
    }
    assert "401" in token and "401" in platform["/api/platform/v1/auth/token/refresh"]["post"]["responses"]
    # Revoking a key answers 200 with the key, not 204.
    revoke = shop["/api/admin/v1/api-keys/{api_key_id}"]["delete"]["responses"]
    assert "200" in revoke and "204" not in revoke
    # Path parameters carry their converter's type.
    (api_key_id,) = shop["/api/admin/v1/api-keys/{api_key_id}"]["get"]["parameters"]
    assert api_key_id["schema"]["type"] == "integer"
    (slug,) = platform["/api/platform/v1/shops/{slug}"]["get"]["parameters"]
    assert slug["schema"] == {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}
    # Lists are cursor-paginated: `limit` and `cursor` in, `results/next/previous` out.
    for path in ("/api/platform/v1/shops", "/api/admin/v1/api-keys", "/api/admin/v1/products"):
        operation = (platform if path.startswith("/api/platform/") else shop)[path]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert {"limit", "cursor"} <= set(params), path
        assert params["limit"]["schema"]["minimum"] == 1
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[
            -1
        ]
        doc = documents["platform" if path.startswith("/api/platform/") else "shop"]
        page = doc["components"]["schemas"][ref]
        assert {"results", "next", "previous"} <= set(page["required"]), path
    # Admin API POSTs honour Idempotency-Key: the header, 422 on reuse and the replay header.
    create_key = shop["/api/admin/v1/api-keys"]["post"]
    (idempotency_key,) = [p for p in create_key["parameters"] if p["name"] == "Idempotency-Key"]
    assert idempotency_key["in"] == "header" and idempotency_key["required"] is False
    assert idempotency_key["schema"]["maxLength"] == 255
    assert "422" in create_key["responses"]
    assert "Idempotent-Replayed" in create_key["responses"]["201"]["headers"]
    # The platform API does not take Idempotency-Key.
    for _path, _method, operation in _operations(documents["platform"]):
        assert all(p["name"] != "Idempotency-Key" for p in operation.get("parameters", []))


# --- A clean 3.1 document for stock tools (issue 15) -------------------------------------


def _walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_document_is_plain_3_1_without_nullable(documents, document) -> None:
    """Was: `nullable` (3.0) on every paginated `next`/`previous`, which 3.1 tools reject or ignore."""
    schema = documents[document]
    nullable = [path for path, node in _walk(schema) if isinstance(node, dict) and "nullable" in node]
    assert not nullable, nullable[:5]
    page = next(v for k, v in schema["components"]["schemas"].items() if k.startswith("Paginated"))
    for link in ("next", "previous"):
        assert page["properties"][link]["type"] == ["string", "null"]
        for example in page["properties"][link]["examples"]:
            assert re.fullmatch(r"https://[^\s\"]+\?cursor=[A-Za-z0-9%]+", example), example


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_document_states_security_servers_license_contact_and_tags(documents, document) -> None:
    schema = documents[document]
    assert schema["servers"] and all(server["url"] for server in schema["servers"])
    assert schema["info"]["license"]["name"] and schema["info"]["contact"]["email"]
    declared = {tag["name"] for tag in schema["tags"]}
    for path, method, operation in _operations(schema):
        security = operation["security"]  # every operation says, anonymous ones too ([])
        assert {} not in security, (method, path, security)
        assert set(operation["tags"]) <= declared, (method, path)
    for path, method, operation in _operations({"paths": schema.get("webhooks", {})}):
        assert set(operation["tags"]) <= declared, (method, path)


@pytest.mark.django_db
def test_anonymous_operations_need_no_credentials(documents) -> None:
    platform, shop = documents["platform"]["paths"], documents["shop"]["paths"]
    for path in (
        "/api/platform/v1/auth/signup",
        "/api/platform/v1/auth/token",
        "/api/platform/v1/auth/token/refresh",
    ):
        assert platform[path]["post"]["security"] == []
    assert platform["/api/platform/v1/plans"]["get"]["security"] == []
    for path, method, operation in _operations(documents["shop"]):
        if path.startswith("/api/storefront/"):
            # Anonymous, but for a signed-in shopper's own `customer/...` (their sign-in itself is anonymous).
            expected: list[dict[str, list[str]]] = (
                [{"customerJwtAuth": []}] if path in CUSTOMER_ONLY_PATHS else []
            )
            assert operation["security"] == expected, (method, path)
    assert shop["/api/storefront/v1/shop"]["get"]["security"] == []


CUSTOMER_ONLY_PATHS = {
    "/api/storefront/v1/customer/me",
    "/api/storefront/v1/customer/addresses",
    "/api/storefront/v1/customer/addresses/{address_id}",
    "/api/storefront/v1/customer/orders",
    "/api/storefront/v1/customer/orders/{number}/reorder",
    "/api/storefront/v1/customer/verify-email/resend",
    "/api/storefront/v1/customer/email-change",
    "/api/storefront/v1/customer/logout",
}


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_money_currency_and_problem_are_shared_components(documents, document) -> None:
    """Was: 23 inlined copies of the Money shape and of the currency enum in a generated client."""
    schema = documents[document]
    components = schema["components"]["schemas"]
    assert components["Money"]["properties"]["currency"] == {"$ref": "#/components/schemas/Currency"}
    assert "EUR" in components["Currency"]["enum"]
    text = json.dumps({k: v for k, v in schema.items() if k != "components"}) + json.dumps(
        {k: v for k, v in components.items() if k not in ("Money", "Currency")}
    )
    inline_money = [
        path
        for path, node in _walk(schema)
        if isinstance(node, dict)
        and set(node.get("properties", {})) == {"amount", "currency"}
        and path != "#/components/schemas/Money"
    ]
    assert inline_money == [], inline_money
    inline_currency = [
        path
        for path, node in _walk(schema)
        if isinstance(node, dict)
        and node.get("enum") == components["Currency"]["enum"]
        and path.count("/") > 3
    ]
    assert inline_currency == [], inline_currency
    if document == "shop":
        assert '"#/components/schemas/Money"' in text
    assert '"#/components/schemas/Problem"' in text


@pytest.mark.django_db
def test_shop_deletion_declares_its_body(documents) -> None:
    """Was: `DELETE shops/{slug}` needed `{"confirm": slug}` that the document did not declare."""
    operation = documents["platform"]["paths"]["/api/platform/v1/shops/{slug}"]["delete"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    component = documents["platform"]["components"]["schemas"][ref]
    assert component["required"] == ["confirm"] and "confirm" in component["properties"]


@pytest.mark.django_db
def test_headers_limit_and_idempotency_key_are_declared(documents) -> None:
    shop = documents["shop"]
    headers = shop["components"]["headers"]
    assert {"RateLimit", "RateLimit-Policy", "Retry-After", "Idempotent-Replayed", "ETag"} <= set(headers)
    products = shop["paths"]["/api/storefront/v1/products"]["get"]["responses"]
    assert {"RateLimit", "RateLimit-Policy", "ETag", "Cache-Control"} <= set(products["200"]["headers"])
    assert products["429"]["headers"]["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}
    (limit,) = [
        p for p in shop["paths"]["/api/admin/v1/products"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert limit["schema"]["maximum"] == 100
    checkout = shop["paths"]["/api/storefront/v1/checkout"]["post"]
    (key,) = [p for p in checkout["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True and key["schema"]["pattern"] == "^[!-~]{1,255}$"
    assert checkout["responses"]["201"]["headers"]["Idempotent-Replayed"]


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_optional_request_fields_carry_no_default(documents, document) -> None:
    """openapi-typescript makes a field with a `default` required; an optional field must stay optional."""
    for name, component in documents[document]["components"]["schemas"].items():
        if name.endswith("Request"):
            required = set(component.get("required", []))
            for field_name, field_schema in component.get("properties", {}).items():
                if field_name not in required:
                    assert "default" not in field_schema, (name, field_name)


@pytest.mark.django_db
def test_webhook_events_are_documented_with_their_payloads(documents) -> None:
    from tenants.outbox.events import WEBHOOK_EVENTS

    webhooks = documents["shop"]["webhooks"]
    assert list(webhooks) == [event.value for event in WEBHOOK_EVENTS]
    for event_type, item in webhooks.items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["type"] == {"type": "string", "const": event_type}
        assert {"id", "type", "created_at", "data"} == set(body["required"])
        headers = {p["name"] for p in item["post"]["parameters"]}
        assert {"Storefleet-Signature", "Storefleet-Event", "Storefleet-Delivery"} <= headers
    assert "webhooks" not in documents["platform"]


# --- Generation: no drf-spectacular warnings or errors ----------------------------------


@pytest.mark.parametrize("document", ["platform", "shop"])
def test_generation_emits_no_warnings_or_errors(document, capsys) -> None:
    schema = _generate(document)
    captured = capsys.readouterr()
    assert not GENERATOR_STATS, f"drf-spectacular complained:\n{captured.err}"
    assert schema["paths"]


@pytest.mark.parametrize("document", ["platform", "shop"])
def test_spectacular_command_passes_with_validate_and_fail_on_warn(document, tmp_path) -> None:
    """As CI runs it: `manage.py spectacular --urlconf ... --validate --fail-on-warn`."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", urlconf=URLCONFS[document], validate=True, fail_on_warn=True, file=str(out))
    assert out.read_text().startswith("openapi: 3.1")


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_served_document_is_the_generated_one(documents, document) -> None:
    assert documents[document] == json.loads(json.dumps(_generate(document), default=str))


# --- Swagger UI -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_swagger_ui_is_served_from_local_assets(api, shop_a, document) -> None:
    host = _host(document, shop_a)
    response = api.get("/api/docs/", HTTP_HOST=host)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="swagger-ui"' in html
    assets = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"not a local asset: {asset}"
        asset_response = api.get(asset, HTTP_HOST=host)
        assert asset_response.status_code == 200, asset
        body = (
            b"".join(asset_response.streaming_content) if asset_response.streaming else asset_response.content
        )
        asset_response.close()
        assert body, asset
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    # The UI loads this host's document.
    (schema_url,) = re.findall(r'url: "([^"]*)"', html)
    assert json.loads(f'"{schema_url}"') == "/api/schema/"


# --- Fuzzing with Schemathesis -------------------------------------------------------

# Generated requests per operation and credentials. Every example runs in a
# savepoint that is rolled back, so examples cannot see each other's data.
FUZZ_EXAMPLES = int(os.environ.get("OPENAPI_FUZZ_EXAMPLES", "25"))
# Deterministic by default, so CI is stable; OPENAPI_FUZZ_RANDOM=1 explores new inputs.
FUZZ_RANDOM = os.environ.get("OPENAPI_FUZZ_RANDOM", "") == "1"

# Server errors the fuzzer found that are not fixed yet: {(document, operationId): reason}.
KNOWN_SERVER_ERRORS: dict[tuple[str, str], str] = {}


def _fuzz_params() -> list[Any]:
    params = []
    for document in ("platform", "shop"):
        for _path, _method, operation in _operations(_generate(document)):
            key = (document, operation["operationId"])
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_SERVER_ERRORS[key])]
                if key in KNOWN_SERVER_ERRORS
                else []
            )
            params.append(pytest.param(*key, id=f"{document}:{key[1]}", marks=marks))
    return params


# No 5xx, and every answer is one the document describes: its status code,
# content type, body schema and headers.
FUZZ_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass
class FuzzTarget:
    host: str
    credentials: dict[str, dict[str, str]]  # name → headers; {} is "as generated", i.e. anonymous
    path_parameters: dict[str, Any] = field(default_factory=dict)  # values that name real rows
    bodies: dict[str, Any] = field(default_factory=dict)  # operationId → a body that succeeds


@pytest.fixture
def in_process_app() -> Iterator[WSGIHandler]:
    """
    Django's WSGI application, called in this thread so requests share the test
    transaction. As Django's test client does, keep request signals from closing
    the connection (and with it the test transaction).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fast_password_hashing(settings) -> None:
    """Sign-up and sign-in hash passwords: MD5 keeps the fuzzer fast (existing hashes still verify)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


# Which security scheme each set of credentials is: an operation that takes another refuses them.
CREDENTIAL_SCHEMES = {"owner-jwt": "jwtAuth", "api-key": "apiKeyAuth", "customer-jwt": "customerJwtAuth"}


@pytest.fixture
def fuzz_targets(shop_a: ShopContext) -> dict[str, FuzzTarget]:
    api_key, key = services.api_key_create(
        shop=shop_a.shop, name="fuzz", scopes=ApiKey.Scope.values, created_by=shop_a.owner
    )
    owner_jwt = {"Authorization": f"Bearer {shop_a.token()}"}
    use_shop(shop_a.shop)
    customer = customer_signup(email="fuzz-shopper@example.com", password=PASSWORD)
    address = customer_address_create(
        customer=customer,
        fields={"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "GB"},
    )
    customer_tokens = customer_tokens_mint(customer)
    use_public()
    return {
        "platform": FuzzTarget(
            host=settings.PLATFORM_HOST,
            credentials={"anonymous": {}, "owner-jwt": owner_jwt},
            path_parameters={
                "slug": shop_a.shop.slug,
                "member_id": Membership.objects.get(shop=shop_a.shop, user=shop_a.owner).pk,
            },
            bodies={
                "auth_token": {"email": shop_a.owner.email, "password": PASSWORD},
                "auth_token_refresh": {"refresh": str(RefreshToken.for_user(shop_a.owner))},
            },
        ),
        "shop": FuzzTarget(
            host=shop_a.host,
            credentials={
                "anonymous": {},
                "owner-jwt": owner_jwt,
                "api-key": {"Authorization": f"Api-Key {key}"},
                "customer-jwt": {"Authorization": f"Bearer {customer_tokens.access}"},
            },
            path_parameters={
                "api_key_id": api_key.pk,
                "address_id": address.pk,
                **_webhook_rows(shop_a),
            },
            bodies={
                "storefront_customer_token": {"email": customer.email, "password": PASSWORD},
                "storefront_customer_token_refresh": {"refresh": customer_tokens.refresh},
            },
        ),
    }


def _webhook_rows(shop: ShopContext) -> dict[str, Any]:
    """A webhook endpoint with one delivery, so fuzzed requests reach past the 404s."""
    use_shop(shop.shop)
    endpoint = webhooks.endpoint_create(
        actor=Actor.system(), url="https://hooks.example.com/fuzz", events=["inventory.low"]
    )
    event = event_record(type="inventory.low", payload={"variant_id": 1})
    (delivery_id,) = webhooks.deliveries_create_for_events(events=[event])
    use_public()
    return {"webhook_id": endpoint.pk, "delivery_id": delivery_id}


def _cases(
    operation: Any, operation_id: str, headers: dict[str, str], target: FuzzTarget
) -> st.SearchStrategy[Any]:
    """
    Valid and invalid requests, some with path parameters naming real rows and,
    where the target has one, a body that succeeds (sign-in can't be guessed).
    """
    path_names = {p.name for p in operation.path_parameters}
    real = {name: value for name, value in target.path_parameters.items() if name in path_names}
    fixed_headers = headers or None
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(mode, headers=fixed_headers))
        if real:
            strategies.append(operation.as_strategy(mode, headers=fixed_headers, path_parameters=real))
    body = target.bodies.get(operation_id)
    if body is not None:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, headers=fixed_headers, body=body))
    return st.one_of(strategies)


def _fuzz(cases: st.SearchStrategy[Any], base_url: str) -> list[int]:
    """Send `FUZZ_EXAMPLES` generated requests, each in a rolled-back savepoint; return their statuses."""
    statuses: list[int] = []

    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=not FUZZ_RANDOM,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )
    @given(case=cases)
    def fuzz(case: Any) -> None:
        with transaction.atomic():
            response = case.call(base_url=base_url)
            transaction.set_rollback(True)
        statuses.append(response.status_code)
        case.validate_response(response, checks=FUZZ_CHECKS)

    fuzz()
    return statuses


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.parametrize(("document", "operation_id"), _fuzz_params())
def test_fuzzed_requests_get_no_server_error(document, operation_id, fuzz_targets, in_process_app) -> None:
    target = fuzz_targets[document]
    base_url = f"http://{target.host}"
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", in_process_app, base_url=base_url, headers={"Accept": "application/json"}
    )
    operation = schema.find_operation_by_id(operation_id)
    failures: list[str] = []
    for credentials, headers in target.credentials.items():
        try:
            statuses = _fuzz(_cases(operation, operation_id, headers, target), base_url)
        except Exception as exc:  # collect, so one run reports every failing credential set
            failures.append(f"--- {credentials} ---\n{exc}")
            continue
        security = operation.definition.raw.get("security") or []
        if credentials != "anonymous" and (not security or {CREDENTIAL_SCHEMES[credentials]: []} in security):
            # The credentials work: requests got past authentication into the view's own code.
            assert set(statuses) - {401}, f"{credentials} only ever got 401 on {operation_id}"
    assert not failures, f"{document} {operation_id}:\n" + "\n".join(failures)


# --- Inputs the generator rarely produces ----------------------------------------------

# Each of these once made a 500 (bad input gets a 4xx problem, never a 500: docs/problems.md):
# Unicode digits in `limit`, JSON nested past the recursion limit, NUL bytes in an API key.


@dataclass
class Hostile:
    document: str
    method: str
    path: str
    credentials: str = "owner-jwt"  # or "anonymous", or a raw Authorization header value
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


_DEEP_JSON = b"[" * 50_000 + b"]" * 50_000
HOSTILE_REQUESTS = {
    "limit-superscript-digit-admin": Hostile("shop", "get", "/api/admin/v1/api-keys?limit=%C2%B2"),
    "limit-circled-digit-platform": Hostile("platform", "get", "/api/platform/v1/shops?limit=%E2%91%A0"),
    "limit-5000-digits": Hostile("shop", "get", "/api/admin/v1/products?limit=" + "9" * 5000),
    "limit-arabic-indic-digit": Hostile("shop", "get", "/api/admin/v1/products?limit=%D9%A3"),
    "limit-zero": Hostile("shop", "get", "/api/admin/v1/products?limit=0"),
    "cursor-nul": Hostile("shop", "get", "/api/admin/v1/api-keys?cursor=%00"),
    "api-key-id-5000-digits": Hostile("shop", "get", "/api/admin/v1/api-keys/" + "9" * 5000),
    "api-key-id-beyond-bigint": Hostile("shop", "delete", "/api/admin/v1/api-keys/99999999999999999999"),
    "slug-nul": Hostile("platform", "patch", "/api/platform/v1/shops/al%00pha", body=b'{"name": "x"}'),
    "deep-json-admin": Hostile("shop", "post", "/api/admin/v1/api-keys", body=_DEEP_JSON),
    "deep-json-signup": Hostile(
        "platform", "post", "/api/platform/v1/auth/signup", "anonymous", body=_DEEP_JSON
    ),
    "json-nan": Hostile("shop", "post", "/api/admin/v1/api-keys", body=b'{"name": NaN, "scopes": []}'),
    "json-invalid-utf8": Hostile("shop", "post", "/api/admin/v1/api-keys", body=b'\xff\xfe{"name"'),
    "json-5000-digit-number": Hostile(
        "shop", "post", "/api/admin/v1/api-keys", body=b'{"name": ' + b"9" * 5000 + b"}"
    ),
    "json-lone-surrogate": Hostile(
        "platform", "post", "/api/platform/v1/shops", body=b'{"name": "\\ud800", "slug": "x-y-z"}'
    ),
    "idempotency-key-nul": Hostile(
        "shop",
        "post",
        "/api/admin/v1/api-keys",
        body=b'{"name": "k", "scopes": ["catalog:read"]}',
        headers={"Idempotency-Key": "a\x00b"},
    ),
    "idempotency-key-too-long": Hostile(
        "shop",
        "post",
        "/api/admin/v1/api-keys",
        body=b'{"name": "k", "scopes": ["catalog:read"]}',
        headers={"Idempotency-Key": "k" * 256},
    ),
    "api-key-nul-prefix": Hostile(
        "shop", "get", "/api/admin/v1/products", "Api-Key sf_" + "\x00" * 12 + "_x"
    ),
    "api-key-unicode-prefix": Hostile("shop", "get", "/api/admin/v1/products", "Api-Key sf_éééééééééééé_x"),
    "bearer-garbage": Hostile("platform", "get", "/api/platform/v1/me", "Bearer a.b.c"),
    "bearer-nul": Hostile("shop", "get", "/api/admin/v1/products", "Bearer \x00"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    list(HOSTILE_REQUESTS),
)
def test_hostile_requests_get_a_problem_not_a_server_error(api, shop_a, name) -> None:
    case = HOSTILE_REQUESTS[name]
    api.raise_request_exception = False  # answer as production would: handler500
    extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in case.headers.items()}
    if case.credentials == "owner-jwt":
        extra["HTTP_AUTHORIZATION"] = f"Bearer {shop_a.token()}"
    elif case.credentials != "anonymous":
        extra["HTTP_AUTHORIZATION"] = case.credentials
    kwargs: dict[str, Any] = {"HTTP_HOST": _host(case.document, shop_a), **extra}
    if case.body is not None:
        kwargs.update(data=case.body, content_type="application/json")
    response = getattr(api, case.method)(case.path, **kwargs)
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM_TYPE


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["platform", "shop"])
def test_plain_options_answers_on_every_path(api, shop_a, documents, document) -> None:
    """Was: 500 on 17 of 78 paths (views without a `serializer_class`)."""
    api.raise_request_exception = False
    samples = {
        "slug": shop_a.shop.slug,
        "cart_id": "0" * 32,
        "delivery_id": "e3e70682-c209-1cac-a29f-6fbed82c07cd",
    }
    for path in documents[document]["paths"]:
        url = re.sub(r"\{(\w+)\}", lambda m: str(samples.get(m.group(1), 1)), path)
        response = api.options(
            url, HTTP_HOST=_host(document, shop_a), HTTP_AUTHORIZATION=f"Bearer {shop_a.token()}"
        )
        assert response.status_code < 500, (path, response.status_code, response.content[:200])


@pytest.mark.django_db
def test_a_deprecated_operation_says_so_in_headers_and_document(api, shop_a, monkeypatch) -> None:
    """docs/api.md's policy: `deprecated: true`, and answers carry Deprecation, Sunset and Link."""
    import datetime as dt

    from tenants.api.views import StorefrontShopView
    from tenants.conventions.deprecation import Deprecation

    monkeypatch.setattr(
        StorefrontShopView, "deprecation", Deprecation(since=dt.date(2026, 1, 1), sunset=dt.date(2027, 7, 1))
    )
    response = api.get("/api/storefront/v1/shop", HTTP_HOST=shop_a.host)
    assert response.status_code == 200
    assert response["Deprecation"] == "@1767225600"
    assert response["Sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
    assert response["Link"] == '<https://storefleet.dev/changelog>; rel="deprecation"'
    operation = _generate("shop")["paths"]["/api/storefront/v1/shop"]["get"]
    assert operation["deprecated"] is True
    assert {"Deprecation", "Sunset", "Link"} <= set(operation["responses"]["200"]["headers"])
