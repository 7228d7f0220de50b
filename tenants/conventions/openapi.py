"""
What drf-spectacular cannot infer: our auth schemes, SimpleJWT's token views,
the `Idempotency-Key` header, pagination limits, and the problem responses
every operation may answer with.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from tenants.conventions import idempotency
from tenants.conventions.money import MONEY_SCHEMA
from tenants.conventions.pagination import CursorPage
from tenants.conventions.problems import PROBLEM_CONTENT_TYPE
from tenants.money import CURRENCIES
from tenants.outbox.events import WEBHOOK_EVENTS
from tenants.webhooks.payloads import EVENT_DATA, event_schema


class ShopJWTScheme(SimpleJWTScheme):
    target_class = "tenants.api.auth.ShopJWTAuthentication"
    name = "jwtAuth"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key sf_<prefix>_<secret>`: a per-shop key created under `api-keys`.",
        }


class CustomerJWTScheme(OpenApiAuthenticationExtension):
    # Named by path: `tenants` does not import `orders` (the dependency points the other way).
    target_class = "orders.api.auth.CustomerJWTAuthentication"
    name = "customerJwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A shopper's access token from `customer/token`, valid on this shop's hosts only.",
        }


# --- SimpleJWT's views (routed as they are in tenants/api/urls.py) ----------------


def _token_view(
    view_class: Any,
    *,
    operation_id: str,
    summary: str,
    description: str,
    failure: str,
    throttled: bool = False,
    success: int = 200,
) -> type:
    """`view_class` with an operation id in our style and its 401 (and 429) documented."""
    serializer = view_class().get_serializer_class()  # SimpleJWT's, as configured
    responses: dict[int, Any] = {
        success: serializer if success == 200 else None,
        401: OpenApiResponse(description=failure),
    }
    if throttled:
        responses[429] = OpenApiResponse(description="Too many attempts for this account or address.")

    @extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description,
            request=serializer,
            responses=responses,
        )
    )
    class Documented(view_class):
        pass

    return Documented


class TokenObtainPairViewSchema(OpenApiViewExtension):
    target_class = "tenants.api.views.SignInView"

    def view_replacement(self) -> type:
        return _token_view(
            self.target_class,
            operation_id="auth_token",
            summary="Sign in",
            description="Exchange an e-mail and password for a JWT access token and refresh token. "
            "Attempts are limited per account and per client address (429 with `Retry-After` beyond).",
            failure="Wrong e-mail or password, or an inactive account (one answer for all three).",
            throttled=True,
        )


class TokenRefreshViewSchema(OpenApiViewExtension):
    target_class = "tenants.api.views.TokenRotateView"

    def view_replacement(self) -> type:
        return _token_view(
            self.target_class,
            operation_id="auth_token_refresh",
            summary="Refresh the access token",
            description="Exchange a refresh token for a new access token and a new refresh token; "
            "the one sent is spent (a second use is a 401).",
            failure="The refresh token is invalid, expired or already used.",
        )


class TokenBlacklistViewSchema(OpenApiViewExtension):
    target_class = "tenants.api.views.SignOutView"

    def view_replacement(self) -> type:
        return _token_view(
            self.target_class,
            operation_id="auth_logout",
            summary="Sign out",
            description="Revoke a refresh token (it cannot be refreshed again). Access tokens "
            "already issued stay valid until they expire (JWT_ACCESS_MINUTES).",
            failure="The refresh token is invalid, expired or already revoked.",
            success=204,
        )


# --- The postprocessing hook ------------------------------------------------------

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Field name → messages, for validation errors.",
        },
        "limit": {"type": "string", "description": "The plan limit a 402 or 409 names, e.g. `max_products`."},
        "plan": {"type": "string", "description": "The plan whose limit it is (its code)."},
        "allowed": {"type": "integer", "description": "What that plan allows."},
        "used": {"type": "integer", "description": "What the shop uses now (a refused downgrade)."},
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_DESCRIPTIONS = {
    "400": "Bad input (validation errors list each field in `errors`), or a malformed Host header.",
    "401": "Missing or invalid credentials.",
    "402": "A limit of the shop's plan would be crossed (`limit` and `plan` name it); upgrade to go on.",
    "403": "Authenticated, but not allowed here.",
    "404": "No such resource on this host, or no shop at this host.",
    "409": "Conflicts with the current state, or a request with the same Idempotency-Key is in flight.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Idempotency-Key reused with a different request.",
    "428": "Idempotency-Key required.",
    "429": "Rate limited: this budget is spent until `Retry-After` seconds have passed.",
    "500": "Server error.",
    "503": "Service unavailable (on the Storefront API: the shop is suspended).",
}

_IDEMPOTENCY_KEY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "description": (
        "Makes the POST safe to retry: the same key with the same body within 24 h returns the stored "
        "response (with `Idempotent-Replayed: true`); with another body it gets 422; while the first "
        "request is still running, 409."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "pattern": idempotency.KEY_PATTERN_TEXT,
        "examples": ["5f0c6f5e-8a7e-4c55-9d8e-2f1b9c0e7a31"],
    },
}

# Response headers, declared once under components/headers and referenced.
HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": 'The budget this request spends, e.g. `"admin";q=120;w=60` (IETF RateLimit headers).',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it and the seconds until it resets, e.g. `"admin";r=119;t=60`.',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until the request may be sent again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    idempotency.REPLAYED_HEADER: {
        "description": "Present (`true`) when this is the stored response to a repeated Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "ETag": {
        "description": "The representation's entity tag; send it back in `If-None-Match` to revalidate.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "How long shared and private caches may keep the answer.",
        "schema": {"type": "string"},
    },
    "Allow": {
        "description": "The methods the resource has.",
        "schema": {"type": "string"},
    },
    "Deprecation": {
        "description": "When this operation was deprecated (RFC 9745), e.g. `@1767225600`.",
        "schema": {"type": "string"},
    },
    "Sunset": {
        "description": "When it stops answering (RFC 8594), an HTTP date.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'Where the change is explained: `<...>; rel="deprecation"`.',
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme(s) to use.",
        "schema": {"type": "string"},
    },
}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


_RATE_LIMIT_HEADERS = {name: _header_ref(name) for name in ("RateLimit-Policy", "RateLimit")}
_RATE_LIMITED_PREFIXES = ("/api/admin/", "/api/storefront/")


def _views_by_operation(generator: Any) -> dict[tuple[str, str], type]:
    """(path, method) → view class, for the endpoints this document was generated from."""
    views: dict[tuple[str, str], type] = {}
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view_class = getattr(callback, "cls", None)
        if view_class is not None:
            views[(path, method.lower())] = view_class
    return views


def _idempotency(view_class: type | None, method: str) -> tuple[bool, bool]:
    """Return (honours Idempotency-Key, requires it) for a view's handler of `method`."""
    handler = getattr(view_class, method, None)
    if handler is None or not getattr(handler, "idempotent", False):
        return False, False
    try:
        required = bool(inspect.getclosurevars(handler).nonlocals.get("required", False))
    except TypeError:
        required = False
    return True, required


def _secured(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    return bool(security) and {} not in security


def _problem_codes(
    path: str, operation: dict[str, Any], method: str, honours_key: bool, requires_key: bool
) -> list[str]:
    codes = ["400", "404", "500"]
    if path.startswith(_RATE_LIMITED_PREFIXES):
        codes.append("429")
    if path.startswith("/api/storefront/"):
        codes.append("503")  # the shop is suspended
    if method in ("post", "put", "patch"):
        codes += ["413", "415"]
    if _secured(operation):
        codes += ["401", "403"]
    if method in ("post", "put", "patch", "delete"):
        codes.append("409")  # unique slugs and SKUs, illegal transitions, the last owner or variant
    if honours_key:
        codes.append("422")
    if requires_key:
        codes.append("428")
    return codes


def _document_limit(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") == CursorPage.page_size_query_param:
            parameter["description"] = (
                f"Page size, 1 to {CursorPage.max_page_size} (default {CursorPage.page_size})."
            )
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": CursorPage.max_page_size,
                "default": CursorPage.page_size,
            }


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """
    Add the Problem schema and the problem responses each operation can give;
    give problem content to error responses a view declared without a body;
    document `Idempotency-Key` where a handler honours it, and the page size.
    """
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    views = _views_by_operation(generator)
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            honours_key, requires_key = _idempotency(views.get((path, method)), method)
            responses = operation.setdefault("responses", {})
            for code in _problem_codes(path, operation, method, honours_key, requires_key):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            if path.startswith(_RATE_LIMITED_PREFIXES):
                for code, response in responses.items():
                    if code.startswith("2") or code == "429":
                        response.setdefault("headers", {}).update(_RATE_LIMIT_HEADERS)
                responses["429"].setdefault("headers", {})["Retry-After"] = _header_ref("Retry-After")
            if path.startswith("/api/storefront/") and method == "get":
                # Storefront reads may be cached by browsers and CDNs.
                for code, response in responses.items():
                    if code.startswith("2"):
                        headers = response.setdefault("headers", {})
                        headers["ETag"] = _header_ref("ETag")
                        headers["Cache-Control"] = _header_ref("Cache-Control")
            for code, response in responses.items():
                if code[:1] in ("4", "5") and not response.get("content"):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}
                    response["description"] = response.get("description") or _DESCRIPTIONS.get(code, "")
            if honours_key:
                parameter = {**_IDEMPOTENCY_KEY_PARAMETER, "required": requires_key}
                operation.setdefault("parameters", []).append(parameter)
                for code, response in responses.items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = _header_ref(
                            idempotency.REPLAYED_HEADER
                        )
            deprecation = getattr(views.get((path, method)), "deprecation", None)
            if deprecation is not None:
                operation["deprecated"] = True
                for code, response in responses.items():
                    if code.startswith("2"):
                        headers = response.setdefault("headers", {})
                        headers.update(
                            {name: _header_ref(name) for name in ("Deprecation", "Sunset", "Link")}
                        )
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = _header_ref(
                    "WWW-Authenticate"
                )
            _document_limit(operation)
            operation["responses"] = dict(sorted(responses.items()))
    return result


@functools.cache
def _integration_guide() -> str:
    """docs/api.md without its title (the document has its own)."""
    text = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text()
    return text.split("\n", 1)[1].strip() if text.startswith("# ") else text


def name_document(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Title each host's document after the APIs in it."""
    platform = getattr(generator, "urlconf", None) == settings.PUBLIC_SCHEMA_URLCONF
    info = result.setdefault("info", {})
    info["title"] = "Storefleet Platform API" if platform else "Storefleet Storefront and Admin APIs"
    summary = (
        "Served on the platform host: sign-up, JWT sign-in and shop management."
        if platform
        else "Served on each shop's host: the Storefront API (anonymous) and the Admin API "
        "(a member's JWT or a per-shop API key)."
    )
    # The integrator's guide, rendered by Redoc and Swagger UI above the operations.
    info["description"] = f"{summary}\n\n{_integration_guide()}"
    return result


# --- A clean OpenAPI 3.1 document --------------------------------------------------


class AutoSchema(BaseAutoSchema):
    """
    drf-spectacular's AutoSchema, also documenting the body of a DELETE whose view
    says it takes one (`delete_has_body = True`; deleting a shop needs `confirm`).
    """

    def _get_request_body(self, direction: str = "request") -> Any:
        if self.method != "DELETE" or not getattr(self.view, "delete_has_body", False):
            return super()._get_request_body(direction)
        self.method = "POST"  # drf-spectacular documents bodies of POST, PUT and PATCH only
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


TAGS = {
    "platform": "Sign-up, JWT sign-in and the shops you are a member of: domains, members, plans, "
    "exports and deletion. Served on the platform host.",
    "storefront": "Anonymous shoppers: the shop, its catalog, carts, checkout and the shopper's order. "
    "Served on each shop's host.",
    "admin": "A shop's members (JWT) and API keys (scoped): catalog, inventory, orders, customers, "
    "webhooks and API keys. Served on each shop's host.",
}
CURRENCY_SCHEMA = {"type": "string", "enum": CURRENCIES, "description": "ISO 4217 currency code."}
MONEY_COMPONENT = {
    "type": "object",
    "description": "An amount of money: a decimal string (never a float) in a currency.",
    "properties": {
        "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["19.99"]},
        "currency": {"$ref": "#/components/schemas/Currency"},
    },
    "required": ["amount", "currency"],
}


def _is_money(node: dict[str, Any]) -> bool:
    return {k: v for k, v in node.items() if k not in ("readOnly", "description", "nullable")} == MONEY_SCHEMA


def _is_currency(node: dict[str, Any]) -> bool:
    return node.get("type") == "string" and node.get("enum") == CURRENCIES


def _tidy(node: Any, in_request_component: bool = False) -> Any:
    """
    Walk a schema: `nullable` becomes a type array (3.1), Money and currency
    codes become references, and optional request fields lose `default` (stated
    in the description instead), which openapi-typescript would make required.
    """
    if isinstance(node, list):
        return [_tidy(item, in_request_component) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == ["object", "null"]:  # drf-spectacular's 3.1 spelling of allow_null
        node = {**node, "type": "object", "nullable": True}
    if _is_money(node):
        money: dict[str, Any] = {"$ref": "#/components/schemas/Money"}
        if node.get("nullable"):
            money = {"oneOf": [money, {"type": "null"}]}
        return {**money, "description": node["description"]} if node.get("description") else money
    if _is_currency(node) and "description" not in node:
        return {"$ref": "#/components/schemas/Currency"}
    node = {key: _tidy(value, in_request_component) for key, value in node.items()}
    if node.pop("nullable", False):
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        elif "$ref" in node or "oneOf" in node:
            node = {"oneOf": [{k: v for k, v in node.items() if k != "oneOf"}, {"type": "null"}]}
    if in_request_component and node.get("type") == "object" and "properties" in node:
        required = set(node.get("required", []))
        for name, field in node["properties"].items():
            if name not in required and isinstance(field, dict) and "default" in field:
                default = field.pop("default")
                note = f"Defaults to `{json.dumps(default)}`."
                field["description"] = f"{field['description']} {note}" if field.get("description") else note
    return node


def _server(platform: bool) -> dict[str, Any]:
    # Relative: the host this document is served from, whatever PLATFORM_HOST and
    # SHOP_BASE_DOMAIN say in this deployment.
    if platform:
        return {"url": "/", "description": "The platform host (PLATFORM_HOST) serving this document."}
    return {
        "url": "/",
        "description": "The shop's host serving this document: `{slug}.SHOP_BASE_DOMAIN` or a custom domain.",
    }


def _webhooks() -> dict[str, Any]:
    webhooks: dict[str, Any] = {}
    for event_type in WEBHOOK_EVENTS:
        summary, _data = EVENT_DATA[event_type]
        webhooks[str(event_type)] = {
            "post": {
                "operationId": f"webhook_{str(event_type).replace('.', '_')}",
                "summary": summary,
                "description": (
                    f"Sent to each active endpoint subscribed to `{event_type}`, as a signed JSON POST. "
                    "Verify `Storefleet-Signature` (`t=<unix time>,v1=<hex HMAC-SHA256 of "
                    '"<t>.<raw body>">`, keyed with the endpoint\'s secret) before trusting it; '
                    "see docs/api.md."
                ),
                "tags": ["webhooks"],
                "security": [],
                "parameters": [
                    {
                        "name": "Storefleet-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "`t=<unix time>,v1=<hex HMAC-SHA256>`.",
                    },
                    {
                        "name": "Storefleet-Event",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "const": str(event_type)},
                        "description": "The event type.",
                    },
                    {
                        "name": "Storefleet-Delivery",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                        "description": "The delivery's id, the same on every attempt: de-duplicate on it.",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": event_schema(event_type)}},
                },
                "responses": {
                    "200": {"description": "Any 2xx answer acknowledges the delivery; others are retried."}
                },
            }
        }
    return webhooks


# Path parameters a created resource fills in, and the field of its answer that holds the value.
_KEY_FIELDS = {"slug": "slug", "number": "number"}
# Reads no create links to: a revoked API key stays readable (with `revoked_at`, for the
# audit trail), which a client following create → revoke → read would take for a bug.
_NOT_LINKED = {"api_keys_retrieve"}
# Creates that answer their parent (the cart), not what they created.
_ANSWERS_THE_PARENT = {"/api/storefront/v1/carts/{cart_id}/items"}
# Links no path shape implies: a cart's id is what checkout takes, and its order's number.
_EXTRA_LINKS = {
    ("/api/storefront/v1/carts", "post"): {
        "storefront_checkout": {
            "operationId": "storefront_checkout",
            "requestBody": {"cart": "$response.body#/id"},
            "description": "Check the new cart out.",
        },
    },
    # Adding an item answers the whole cart; the item's id is the variant's.
    ("/api/storefront/v1/carts/{cart_id}/items", "post"): {
        "storefront_cart_items_update": {
            "operationId": "storefront_cart_items_update",
            "parameters": {"cart_id": "$request.path.cart_id", "item_id": "$request.body#/variant"},
        },
        "storefront_cart_items_remove": {
            "operationId": "storefront_cart_items_remove",
            "parameters": {"cart_id": "$request.path.cart_id", "item_id": "$request.body#/variant"},
        },
        "storefront_checkout": {
            "operationId": "storefront_checkout",
            "requestBody": {"cart": "$request.path.cart_id"},
            "description": "Check the cart out.",
        },
    },
    ("/api/storefront/v1/checkout", "post"): {
        "admin_orders_retrieve": {
            "operationId": "admin_orders_retrieve",
            "parameters": {"number": "$response.body#/number"},
            "description": "Read the order in the Admin API.",
        },
    },
}


def _response_fields(result: dict[str, Any], response: dict[str, Any]) -> set[str]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = result["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    return set(schema.get("properties", {}))


def add_links(result: dict[str, Any]) -> None:
    """
    OpenAPI links from each create to what can be done with what it created:
    `POST /things` → every operation under `/things/{thing_id}` (or `{slug}`,
    `{number}`), the new value taken from the answer. Clients and Schemathesis's
    stateful tests follow them (create → read → update → delete).
    """
    paths = result.get("paths", {})
    operation_ids = {op["operationId"] for item in paths.values() for op in item.values()}
    for path, path_item in paths.items():
        create = path_item.get("post")
        if create is None:
            continue
        ok = next((code for code in ("201", "200") if code in create["responses"]), None)
        if ok is None:
            continue
        fields = _response_fields(result, create["responses"][ok])
        links: dict[str, Any] = {}
        for other, other_item in paths.items() if path not in _ANSWERS_THE_PARENT else ():
            match = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(/.*)?", other)
            if match is None:
                continue
            name = match.group(1)
            field = _KEY_FIELDS.get(name, "id")
            if field not in fields or (name not in _KEY_FIELDS and not name.endswith("_id")):
                continue
            parameters = {name: f"$response.body#/{field}"}
            # The create's own path parameters carry over: .../{product_id}/variants → .../{variant_id}
            parameters.update({p: f"$request.path.{p}" for p in re.findall(r"\{(\w+)\}", path)})
            for operation in other_item.values():
                if operation["operationId"] in _NOT_LINKED:
                    continue
                if set(re.findall(r"\{(\w+)\}", other)) <= set(parameters):
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {p: parameters[p] for p in re.findall(r"\{(\w+)\}", other)},
                    }
        for name, link in _EXTRA_LINKS.get((path, "post"), {}).items():
            if link["operationId"] in operation_ids:
                links[name] = link
        if links:
            create["responses"][ok]["links"] = dict(sorted(links.items()))


def finish_document(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """
    Make the document clean OpenAPI 3.1 for stock linters and generators: every
    operation states its security (`{}` alone when anonymous), tags are declared,
    servers, license and contact are set, Money, Currency, Problem and the
    response headers are shared components, and the shop document carries the
    webhook events with their payloads.
    """
    platform = getattr(generator, "urlconf", None) == settings.PUBLIC_SCHEMA_URLCONF
    info = result.setdefault("info", {})
    info["contact"] = {
        "name": "Storefleet",
        "url": "https://storefleet.dev/support",
        "email": "api@storefleet.dev",
    }
    info["license"] = {"name": "Proprietary", "url": "https://storefleet.dev/terms"}
    result["servers"] = [_server(platform)]
    used_tags: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            # Anonymous operations say so with an empty list: `[{}]` ("credentials optional")
            # makes generators such as openapi-python-client demand an authenticated client.
            security = operation.get("security") or [{}]
            operation["security"] = [] if {} in security else security
            used_tags.update(operation.get("tags", []))
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in list(schemas.items()):
        schemas[name] = _tidy(schema, in_request_component=name.endswith("Request"))
    result["paths"] = _tidy(result.get("paths", {}))
    schemas["Money"] = MONEY_COMPONENT
    schemas["Currency"] = CURRENCY_SCHEMA
    text = json.dumps(result, default=str)  # lazy translations among the descriptions
    components["headers"] = {
        name: h for name, h in HEADERS.items() if f'"#/components/headers/{name}"' in text
    }
    add_links(result)
    if not platform:
        result["webhooks"] = _webhooks()
        used_tags.add("webhooks")
    descriptions = {
        **TAGS,
        "webhooks": "Events sent to the shop's webhook endpoints (see `admin` → webhooks).",
    }
    result["tags"] = [{"name": tag, "description": descriptions.get(tag, tag)} for tag in sorted(used_tags)]
    components.pop("schemas", None)
    components["schemas"] = dict(sorted(schemas.items()))
    return result
