"""Fixtures shared by the catalog tests."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from config.celery import app as celery_app


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Queued tasks run at once, in this process (as a worker would, schema switch included)."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = saved


def png_bytes(size: tuple[int, int] = (8, 8), colour: str = "red") -> bytes:
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class ImageServer:
    """A local HTTP server thread for image downloads: `files` by path, `requests` the paths asked for."""

    base: str
    files: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    folder: Path | None = None  # also serves these files under /media/ (an export's image URLs)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture
def image_server(settings: Any) -> Iterator[ImageServer]:
    """Serve images from 127.0.0.1, with the import's explicit switch that allows loopback turned on."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    served = ImageServer(base=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            found = served.files.get(self.path)
            if found is None and served.folder is not None and self.path.startswith("/media/"):
                file = served.folder / self.path.removeprefix("/media/")
                if file.is_file():
                    found = (200, "application/octet-stream", file.read_bytes())
            status, content_type, body = found or (404, "text/plain", b"not here")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.IMAGE_IMPORT_ALLOW_PRIVATE_URLS = True
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
