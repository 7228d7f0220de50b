"""
The built single-page apps (frontend/dist): the storefront on shop hosts, the
merchant admin at /app/ on the platform host. Each client-side route gets its
app's index.html, never cached (a deploy must reach browsers at once); the
hashed assets it names are static files, cached for good (see settings).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tenants.conventions.problems import problem_response


def _index(request: HttpRequest, app: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="Pages answer GET and HEAD only.", headers={"Allow": "GET, HEAD"})
    try:
        html = (settings.SPA_DIST_DIR / app / "index.html").read_bytes()
    except FileNotFoundError:
        return problem_response(
            503,
            title="Frontend not built",
            detail="Build the SPA first: `make run` does, or `npm ci && npm run build` in frontend/.",
            code="frontend_not_built",
        )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def storefront(request: HttpRequest, path: str = "") -> HttpResponse:
    """Serve the storefront for any of its routes (shop hosts)."""
    return _index(request, "storefront")


def admin(request: HttpRequest, path: str = "") -> HttpResponse:
    """Serve the merchant admin for any of its routes under /app/ (platform host)."""
    return _index(request, "admin")
