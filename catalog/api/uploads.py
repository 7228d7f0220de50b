"""
Local object storage over HTTP (STORAGE=local, as `make run` uses): the signed
PUT URLs that stand in for S3's presigned uploads, and the files at MEDIA_URL.
Both answer on a shop's host for that shop's keys only. Not part of the
documented API: clients get these URLs from the Admin API's answers.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from catalog import images, selectors
from catalog.images import EXTENSIONS
from tenants import storage
from tenants.conventions.problems import problem_response
from tenants.errors import DomainError

_MEDIA_TYPES = {f".{extension}": content_type for content_type, extension in EXTENSIONS.items()}
_MEDIA_TYPES[".jpeg"] = "image/jpeg"


def _not_here(request: HttpRequest) -> HttpResponse:
    return problem_response(404, detail=f"Nothing lives at {request.path!r} on this host.")


@csrf_exempt  # authorised by the signed token in the URL, like a presigned S3 URL
def upload_put(request: HttpRequest) -> HttpResponse:
    """Store the body under the upload key the token names: once, if type, size, expiry and image allow."""
    if settings.STORAGE != "local":
        return _not_here(request)
    if request.method != "PUT":
        return problem_response(405, detail="Upload with PUT.", headers={"Allow": "PUT"})
    try:
        images.image_upload_receive(
            token=request.GET.get("token", ""),
            content_type=request.META.get("CONTENT_TYPE", ""),
            content_length=request.META.get("CONTENT_LENGTH"),
            stream=request,  # read as it arrives: images are larger than request bodies may be in memory
        )
    except DomainError as exc:
        return problem_response(exc.status, title=exc.title, detail=exc.detail, code=str(exc.code))
    return HttpResponse(status=204)


def media_serve(request: HttpRequest, key: str) -> HttpResponseBase:
    """Serve one of this shop's stored images (GET and HEAD only)."""
    if settings.STORAGE != "local":
        return _not_here(request)
    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="Only GET and HEAD.", headers={"Allow": "GET, HEAD"})
    path = storage.local_media_path(key)
    content_type = _MEDIA_TYPES.get(path.suffix.lower()) if path else None
    # Only confirmed images: never a file some upload URL wrote, nor one whose image is gone.
    if path is None or content_type is None or not selectors.image_file_served(key=key):
        return _not_here(request)
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response
