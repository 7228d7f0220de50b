"""Host → schema routing, health checks that answer on every host, and CORS for the admin SPA."""

from __future__ import annotations

from collections.abc import Callable

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.http.response import HttpResponseBase
from django.urls import set_urlconf
from django.utils.cache import patch_vary_headers
from django_tenants.postgresql_backend.base import FakeTenant

from tenants.conventions.problems import html_not_found, prefers_html, problem_response
from tenants.keys import redis_client
from tenants.models import Shop
from tenants.observability.heartbeat import heartbeats_summary
from tenants.routing import shop_for_host
from tenants.schemas import use_public, use_shop

PUBLIC_TENANT = FakeTenant(schema_name="public")
# What a suspended shop's host still answers; anything else there is a 503 problem.
SUSPENDED_SERVES_UNDER = "/api/admin/"
SUSPENDED_SERVES_UPLOADS = "/api/uploads"  # the signed upload URLs (token in the query)


def _port_part(port: str) -> str:
    return f":{port}" if port and port not in ("80", "443") else ""


def _suspended_shop_serves(path: str) -> bool:
    return path.startswith(SUSPENDED_SERVES_UNDER) or path == SUSPENDED_SERVES_UPLOADS


class HealthCheckMiddleware:
    """
    `GET /healthz` (the process is up) and `GET /readyz` (PostgreSQL and Redis
    answer; also, for information, each queue's live workers and their last
    heartbeat), before host routing: load balancers probe by IP, not by shop host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            return self._ready()
        return self.get_response(request)

    def _ready(self) -> HttpResponse:
        checks = {"database": "ok", "redis": "ok"}
        try:
            use_public()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"error: {exc.__class__.__name__}"
        try:
            redis_client().ping()
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
        # Workers are reported, not required: a web process serves without them (the
        # outbox keeps what they will send), and a load balancer must not drop it for that.
        workers = heartbeats_summary() if checks["redis"] == "ok" else {"status": "unknown"}
        if all(value == "ok" for value in checks.values()):
            return JsonResponse({"status": "ok", "checks": checks, "workers": workers})
        return problem_response(
            503,
            title="Not ready",
            detail="A dependency is unreachable.",
            extensions={"checks": checks, "workers": workers},
        )


class ShopRoutingMiddleware:
    """
    Point the connection at the schema of the request's host: the platform host
    gets `public` and the platform URLs; a shop's domain gets its schema and the
    shop URLs; any other host gets a 404 problem and touches no shop.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        use_public()
        try:
            hostname, _port = split_domain_port(request.get_host())
        except DisallowedHost:
            # Answered here, not by handler400: with DEBUG on Django would send its HTML page.
            return problem_response(
                400,
                title="Malformed Host header",
                detail="The Host header is not a valid host.",
                code="bad_host",
            )
        if hostname == settings.PLATFORM_HOST:
            request.tenant = PUBLIC_TENANT  # type: ignore[attr-defined]
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
        else:
            shop = shop_for_host(hostname)
            if shop is None or shop.status == Shop.Status.DELETING:
                if prefers_html(request):
                    return html_not_found(
                        title="No shop here",
                        message=f"No shop is served at {hostname}. Check the address for a typo.",
                        link=(
                            f"{request.scheme}://{settings.PLATFORM_HOST}{_port_part(_port)}/",
                            "Go to Storefleet",
                        ),
                    )
                return problem_response(
                    404,
                    title="Unknown shop",
                    detail=f"No shop is served at {hostname!r}.",
                    code="shop_not_found",
                )
            if shop.status == Shop.Status.SUSPENDED and not _suspended_shop_serves(request.path):
                # Before the storefront cache: a suspended shop shows and sells nothing (API,
                # cached answers, pages, images). Its Admin API, and the upload URLs it hands
                # out, keep working, so the merchant can put things right.
                return problem_response(
                    503,
                    title="Shop unavailable",
                    detail=f"The shop at {hostname!r} is unavailable at the moment.",
                    code="shop_unavailable",
                )
            shop.domain_url = hostname
            request.tenant = shop  # type: ignore[attr-defined]
            request.urlconf = settings.ROOT_URLCONF  # type: ignore[attr-defined]
            use_shop(shop)
        set_urlconf(request.urlconf)  # type: ignore[attr-defined]
        return self.get_response(request)


class ShopCorsMiddleware(CorsMiddleware):
    """
    CORS for the admin SPA: it runs on the platform host and calls each shop's
    Admin API on the shop's own host, so shop hosts answer cross-origin requests
    from the configured admin origin (CORS_ALLOWED_ORIGINS) and no other. The
    platform host serves the SPA itself, same-origin, and sends no CORS headers.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Most requests carry no Origin (shoppers on the storefront's own host, API
        # clients on servers): nothing to allow or refuse, and no preflight to answer,
        # only `Vary: Origin` for caches. That skips building request.headers, the
        # URL pattern and the signal twice over, on every cached storefront answer.
        if self.async_mode or "HTTP_ORIGIN" in request.META:
            return super().__call__(request)  # type: ignore[return-value]
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # sync: async_mode is off
        if self.is_enabled(request):
            patch_vary_headers(response, ("origin",))
        return response

    def is_enabled(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        on_shop_host = tenant is not None and tenant.schema_name != PUBLIC_TENANT.schema_name
        return on_shop_host and super().is_enabled(request)
