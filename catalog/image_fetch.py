"""
The product import's images: each `Image Src` of a file is downloaded by the
worker before the import's transaction opens (no database lock waits on a remote
server), through the webhooks' SSRF guard (tenants.webhooks.ssrf): http(s) only,
the host resolved once and every address checked (loopback, private, link-local
and reserved refused unless `IMAGE_IMPORT_ALLOW_PRIVATE_URLS`), the connection
made to an address that was checked, no redirect followed, the whole exchange
bounded by `IMAGE_IMPORT_TIMEOUT_SECONDS` and the body by `IMAGE_MAX_BYTES`.

What arrives must be an accepted image type by its first bytes (catalog.images'
check); it then waits in a temporary file until the import stores it through
`catalog.images.image_import`, the path an uploaded image takes on confirm.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings

from catalog.errors import ImageRefused
from catalog.images import SNIFF_BYTES, allowed_content_types, sniffed_type
from tenants.errors import DomainError
from tenants.webhooks import ssrf, transport

USER_AGENT = "Storefleet-Import/1.0"


class _ImportGuard(transport._Guarded):
    """Connections of image downloads: private addresses only when the import's own switch allows."""

    def private_allowed(self) -> bool:
        return bool(settings.IMAGE_IMPORT_ALLOW_PRIVATE_URLS)


def image_url_check(url: str) -> str | None:
    """Why `url` cannot be an image to download (its form only: no lookup, no request), or None."""
    try:
        ssrf.url_parse(url)
    except DomainError as refused:
        return refused.detail
    return None


def image_download(url: str) -> tuple[bytes, str]:
    """Download one image: its bytes and content type, or ImageRefused saying why not."""
    try:
        target = ssrf.url_parse(url)
    except DomainError as refused:
        raise ImageRefused(refused.detail) from None
    if not settings.IMAGE_IMPORT_ALLOW_PRIVATE_URLS and (
        target.host == "localhost" or target.host.endswith(".localhost")
    ):
        raise ImageRefused("Images are not downloaded from localhost.")
    got = transport.get(
        target=target,
        timeout=settings.IMAGE_IMPORT_TIMEOUT_SECONDS,
        max_bytes=settings.IMAGE_MAX_BYTES,
        guarded=_ImportGuard,
        user_agent=USER_AGENT,
    )
    if got.error:
        raise ImageRefused(f"Could not download it: {got.error}")
    if got.status != 200:
        raise ImageRefused(f"The server answered {got.status}, not 200 (redirects are not followed).")
    if got.too_big:
        raise ImageRefused(f"Larger than images may be ({settings.IMAGE_MAX_BYTES} bytes).")
    if not got.body:
        raise ImageRefused("The server sent an empty file.")
    content_type = sniffed_type(got.body[:SNIFF_BYTES])
    allowed = allowed_content_types()
    if content_type not in allowed:
        raise ImageRefused(f"Not an accepted image ({', '.join(allowed)}) by its bytes.")
    declared = got.content_type
    if declared.startswith("image/") and declared != content_type:
        raise ImageRefused(f"Sent as {declared}, but its bytes are {content_type}.")
    return got.body, content_type


class ImageCache:
    """Downloaded images of one import, in a temporary folder, each URL fetched once."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.found: dict[str, tuple[Path, str]] = {}

    def fetch(self, url: str) -> None:
        if url in self.found:
            return
        data, content_type = image_download(url)
        path = self.folder / hashlib.sha256(url.encode()).hexdigest()
        path.write_bytes(data)
        os.chmod(path, 0o600)
        self.found[url] = (path, content_type)

    def read(self, url: str) -> tuple[bytes, str]:
        path, content_type = self.found[url]
        return path.read_bytes(), content_type
