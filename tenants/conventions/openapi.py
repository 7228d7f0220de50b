"""
What drf-spectacular cannot infer: our auth schemes and the problem responses
every operation may answer with.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension

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
    },
    "required": ["type", "title", "status", "detail"],
}

_DESCRIPTIONS = {
    "400": "Bad input (validation errors list each field in `errors`).",
    "401": "Missing or invalid credentials.",
    "403": "Authenticated, but not allowed here.",
    "404": "No such resource on this host.",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state, or a request with the same Idempotency-Key is in flight.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Idempotency-Key reused with a different request.",
    "428": "Idempotency-Key required.",
    "429": "Rate limited.",
    "500": "Server error.",
    "503": "Shop unavailable.",
}


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Add the Problem schema, and the problem responses each operation can give."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            codes = (
                ["400", "404", "405", "413", "415", "500"]
                if method in ("post", "put", "patch")
                else [
                    "400",
                    "404",
                    "405",
                    "500",
                ]
            )
            if operation.get("security") and {} not in operation["security"]:
                codes += ["401", "403"]
            if method == "post":
                codes += ["409", "422", "428"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {"description": _DESCRIPTIONS[code], "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}}},
                )
    return result
