"""
RFC 9457 problem details: the one formatter every error response goes through,
from DRF views, Django's error handlers and middleware alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.utils.html import escape
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions

from tenants.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Each `type` is this base and the problem's code; docs/problems.md describes every one.
PROBLEM_TYPE_BASE = getattr(settings, "PROBLEM_TYPE_BASE", "https://storefleet.dev/problems/")

# The code of a problem that has no more specific one: one per HTTP status we answer.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    402: "payment_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    428: "precondition_required",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def problem_type(code: str) -> str:
    """The `type` URI of a problem code."""
    return f"{PROBLEM_TYPE_BASE}{code.replace('_', '-')}"


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
    # Every problem has a code and a `type` URI documented in docs/problems.md, so a
    # client can branch on it and a person can look it up; never "about:blank".
    code = code or STATUS_CODES.get(status) or ("server_error" if status >= 500 else "bad_request")
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description or HTTPStatus(status).phrase,
        "code": code,
    }
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
        detail, code = _drf_detail_and_code(exc)
        return problem_response(
            status,
            title=title,
            detail=detail,
            code=code,
            headers=headers,
            errors=getattr(exc, "errors", None),  # the parser names the fields it refused
        )
    return None


def _drf_detail_and_code(exc: drf_exceptions.APIException) -> tuple[str, str | None]:
    """One readable `detail` and the code, also for SimpleJWT's dict details."""
    detail = exc.detail
    if isinstance(detail, Mapping):
        # SimpleJWT: {"detail": "Given token not valid ...", "code": "token_not_valid", "messages": [...]}
        code = detail.get("code")
        text = detail.get("detail")
        return (str(text) if text else str(exc.default_detail)), (str(code) if code else None)
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail) or str(exc.default_detail), None
    codes = exc.get_codes()
    return str(detail), codes if isinstance(codes, str) else None


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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's admin forms refused as a problem, not an HTML page."""
    return problem_response(403, detail=f"CSRF verification failed: {reason}", code="csrf_failed")


@csrf_exempt
def no_route(request: HttpRequest, path: str = "") -> HttpResponse:
    """
    The last pattern of both URL confs. Django answers an unmatched URL with its
    HTML debug page when DEBUG is on, whatever handler404 says; matching every
    path keeps the 404 a problem in every mode. Keeps APPEND_SLASH's redirect.
    """
    if settings.APPEND_SLASH and not request.path_info.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(f"{request.path_info}/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not no_route:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return page_not_found(request)


class ProblemMiddleware:
    """
    Turn exceptions from views outside DRF (uploads, downloads, the SPA, Django's
    admin) into problems. Without DEBUG Django's handlers do that already; with it
    Django would answer its HTML debug pages, with settings and a traceback.
    Unexpected errors are still logged with their traceback (and re-raised in
    tests, as Django's test client expects).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG:
            return None  # Django's handler400/403/404/500 answer, and log, as in production
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, DjangoPermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, (SuspiciousOperation, RequestDataTooBig)):
            return bad_request(request, exception)
        signals.got_request_exception.send(sender=self.__class__, request=request)
        response = problem_response(
            500,
            detail="Something went wrong on our side; it has been logged.",
            extensions={"exception": f"{type(exception).__name__}: {exception}"},  # DEBUG only
        )
        log_response(
            "%s: %s",
            response.reason_phrase,
            request.path,
            response=response,
            request=request,
            exception=exception,
        )
        return response


def prefers_html(request: HttpRequest) -> bool:
    """
    Whether the client is a browser asking for a page: a GET or HEAD whose Accept
    puts HTML before JSON. API clients (and curl's `*/*`) keep the problem JSON.
    """
    if request.method not in ("GET", "HEAD") or request.path.startswith("/api/"):
        return False
    try:
        preferred = request.get_preferred_type(["application/json", "text/html"])
    except ValueError:  # an Accept header that does not parse
        return False
    return preferred == "text/html"


def html_not_found(*, title: str, message: str, link: tuple[str, str] | None = None) -> HttpResponse:
    """A plain, friendly 404 page for a browser (the problem JSON is for programs)."""
    link_html = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        "<style>body{font-family:system-ui,sans-serif;color:#1d2330;max-width:36rem;margin:15vh auto;"
        "padding:0 1.5rem;line-height:1.5}h1{font-size:1.6rem}a{color:#1f5fbf}</style></head>"
        f"<body><main><h1>{escape(title)}</h1><p>{escape(message)}</p>{link_html}</main></body></html>"
    )
    response = HttpResponse(page, status=404, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept"
    return response
