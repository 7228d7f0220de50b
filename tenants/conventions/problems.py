"""
RFC 9457 problem details: the one formatter every error response goes through,
from DRF views, Django's error handlers and middleware alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf_exceptions

from tenants.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = getattr(settings, "PROBLEM_TYPE_BASE", "https://storefleet.dev/problems/")


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    code: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """Return an `application/problem+json` response."""
    body: dict[str, Any] = {
        # Plain HTTP errors use "about:blank" as RFC 9457 asks; our own codes get a URI.
        "type": f"{PROBLEM_TYPE_BASE}{code.replace('_', '-')}" if code else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description or HTTPStatus(status).phrase,
    }
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = dict(errors)
    body.update(extensions or {})
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested validation detail into `{"field.sub.0": [messages]}`."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for field, value in detail.items():
            name = f"{prefix}.{field}" if prefix else str(field)
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (Mapping, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:  # DRF leaves {} for list items that were valid
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


_DRF_TITLES = {
    drf_exceptions.ParseError: "Malformed request body",
    drf_exceptions.NotAuthenticated: "Authentication required",
    drf_exceptions.AuthenticationFailed: "Authentication failed",
    drf_exceptions.UnsupportedMediaType: "Unsupported media type",
    drf_exceptions.Throttled: "Too many requests",
}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse | None:
    """DRF EXCEPTION_HANDLER: answer every handled error as a problem."""
    if isinstance(exc, DomainError):
        return problem_response(
            exc.status,
            title=exc.title,
            detail=exc.detail,
            code=str(exc.code),
            errors=exc.errors,
            extensions=exc.extensions,
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        return problem_response(
            400,
            title="Validation failed",
            detail="The request has invalid fields; see `errors`.",
            code="validation_failed",
            errors=flatten_errors(exc.detail),
        )
    if isinstance(exc, Http404):
        return problem_response(404, detail="No such resource.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(403, detail="You do not have permission to perform this action.")
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, detail="The request body is larger than this API accepts.")
    if isinstance(exc, SuspiciousOperation):
        return problem_response(400, detail="The request was refused as malformed.")
    if isinstance(exc, drf_exceptions.APIException):
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
        if isinstance(exc, drf_exceptions.MethodNotAllowed) and context.get("view") is not None:
            headers["Allow"] = ", ".join(context["view"].allowed_methods)
        status = exc.status_code
        title = next((t for cls, t in _DRF_TITLES.items() if isinstance(exc, cls)), None)
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return problem_response(
            status,
            title=title,
            detail=str(detail),
            code=_drf_code(exc),
            headers=headers,
            errors=getattr(exc, "errors", None),  # the parser names the fields it refused
        )
    return None


def _drf_code(exc: drf_exceptions.APIException) -> str | None:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else None


# --- Django's own error handlers (handler400/403/404/500 in both URL confs) -----


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return problem_response(413, detail="The request body is larger than this API accepts.")
    return problem_response(400, detail="The request was refused as malformed.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(403, detail="You do not have permission to perform this action.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(404, detail=f"Nothing lives at {request.path!r} on this host.")


def server_error(request: HttpRequest) -> HttpResponse:
    return problem_response(500, detail="Something went wrong on our side; it has been logged.")
