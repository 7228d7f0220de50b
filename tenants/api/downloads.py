"""
Local object storage (STORAGE=local): the signed, expiring download links that
stand in for S3's presigned GETs (shop exports, CSV exports). Served on the platform and shop hosts;
not part of the documented API: clients get these URLs from its answers.
"""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase

from tenants import storage
from tenants.conventions.problems import problem_response
from tenants.errors import DomainError


def download_get(request: HttpRequest) -> HttpResponseBase:
    """Send the file a signed download token names, as an attachment (GET and HEAD only)."""
    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="Only GET and HEAD.", headers={"Allow": "GET, HEAD"})
    try:
        path, filename = storage.download_grant_read(request.GET.get("token", ""))
    except DomainError as exc:
        return problem_response(exc.status, title=exc.title, detail=exc.detail, code=str(exc.code))
    except FileNotFoundError:
        return _gone(request)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if filename.endswith(".jsonl"):
        content_type = "application/jsonl"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return problem_response(404, detail="The file behind this link no longer exists.")
