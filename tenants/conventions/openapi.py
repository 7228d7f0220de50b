"""
What drf-spectacular cannot infer: our auth schemes, SimpleJWT's token views,
the `Idempotency-Key` header, pagination limits, and the problem responses
every operation may answer with.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from tenants.conventions import idempotency
from tenants.conventions.pagination import CursorPage
from tenants.conventions.problems import PROBLEM_CONTENT_TYPE


class ShopJWTScheme(SimpleJWTScheme):
    target_class = "tenants.auth.ShopJWTAuthentication"
    name = "jwtAuth"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key sf_<prefix>_<secret>`: a per-shop key created under `api-keys`.",
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
    class Documented(view_class):  # type: ignore[misc]
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
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
}
_REPLAYED_HEADER = {
    "description": "Present (`true`) when this is a stored response replayed for a repeated Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}


_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The budget this request spends, e.g. `"admin";q=120;w=60` (IETF RateLimit headers).',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it and the seconds until it resets, e.g. `"admin";r=119;t=60`.',
        "schema": {"type": "string"},
    },
}
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
    if method == "post":
        codes.append("409")
    if honours_key:
        codes.append("422")
    if requires_key:
        codes.append("428")
    return codes


def _document_limit(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") == CursorPage.page_size_query_param:
            parameter["description"] = (
                f"Page size, 1 to {CursorPage.max_page_size} (default {CursorPage.page_size}); "
                f"larger values are capped at {CursorPage.max_page_size}."
            )
            parameter["schema"] = {"type": "integer", "minimum": 1, "default": CursorPage.page_size}


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
                responses["429"].setdefault("headers", {})["Retry-After"] = {
                    "description": "Seconds until the budget resets.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            for code, response in responses.items():
                if code[:1] in ("4", "5") and not response.get("content"):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}
                    response["description"] = response.get("description") or _DESCRIPTIONS.get(code, "")
            if honours_key:
                parameter = {**_IDEMPOTENCY_KEY_PARAMETER, "required": requires_key}
                operation.setdefault("parameters", []).append(parameter)
                for code, response in responses.items():
                    if code.startswith("2"):
                        response.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = _REPLAYED_HEADER
            _document_limit(operation)
            operation["responses"] = dict(sorted(responses.items()))
    return result


def name_document(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Title each host's document after the APIs in it."""
    platform = getattr(generator, "urlconf", None) == settings.PUBLIC_SCHEMA_URLCONF
    info = result.setdefault("info", {})
    info["title"] = "Storefleet Platform API" if platform else "Storefleet Storefront and Admin APIs"
    info["description"] = (
        "Served on the platform host: sign-up, JWT sign-in and shop management."
        if platform
        else "Served on each shop's host: the Storefront API (anonymous) and the Admin API "
        "(a member's JWT or a per-shop API key)."
    )
    return result
