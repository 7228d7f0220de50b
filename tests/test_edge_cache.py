"""
The docker/ edge (nginx with docker/nginx/edge.conf) in front of the real app:
it keeps anonymous storefront answers per host for as long as their
Cache-Control allows, and a change in the shop shows through it within two
seconds (s-maxage=1; nginx counts whole seconds). Needs nginx (Debian:
nginx-light); the app runs in a thread here.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connections
from rest_framework.test import APIClient

from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext
from tests.net import free_port, http_get
from tests.test_docker import edge_config

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            connections.close_all()  # this thread's, so the test database can be dropped


@pytest.fixture
def app_port() -> Iterator[int]:
    """The app (Django's WSGI handler, as gunicorn runs it) on a free port, counting requests."""
    port = free_port()
    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def edge(tmp_path: Path, app_port: int) -> Iterator[int]:
    port = free_port()
    conf = edge_config(tmp_path, upstream=f"127.0.0.1:{app_port}", port=port)
    for name in ("cache", "body", "proxy"):
        (tmp_path / name).mkdir()
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if http_get(port, "localhost", "/edge-healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def test_the_edge_keeps_storefront_answers_per_host_and_a_change_shows_within_a_second(
    committed_shop: ShopContext, edge: int
) -> None:
    shop = committed_shop
    admin = AdminClient(APIClient(), shop)
    created = admin.post("products", product_body("Enamel Mug"))
    assert created.status_code == 201, created.content
    product = created.json()
    detail = "/api/storefront/v1/products/enamel-mug"

    status, headers, body = http_get(edge, shop.host, detail)
    assert status == 200 and headers["x-edge-cache"] == "MISS", (status, headers)
    status, headers, cached = http_get(edge, shop.host, detail)
    assert status == 200 and headers["x-edge-cache"] == "HIT" and cached == body
    # Another host, same path: its own entry (here the platform host, which has no storefront).
    status, headers, _ = http_get(edge, "localhost", detail)
    assert status == 404 and headers.get("x-edge-cache") != "HIT"
    # Answers that are not `public` are never kept: a cart is the shopper's own.
    conn = http.client.HTTPConnection("127.0.0.1", edge, timeout=10)
    conn.request("POST", "/api/storefront/v1/carts", body=b"{}", headers={"Host": shop.host})
    cart = conn.getresponse()
    cart_id = json.loads(cart.read())["id"]
    conn.close()
    for _ in range(2):
        status, headers, _ = http_get(edge, shop.host, f"/api/storefront/v1/carts/{cart_id}")
        assert status == 200 and headers.get("x-edge-cache") in (None, "MISS", "BYPASS"), headers

    renamed = admin.patch(f"products/{product['id']}", {"title": "Stoneware Mug"})
    assert renamed.status_code == 200, renamed.content
    changed = time.monotonic()
    seen = []
    while time.monotonic() - changed < 3:
        status, headers, body = http_get(edge, shop.host, detail)
        seen.append(headers.get("x-edge-cache"))
        if b"Stoneware Mug" in body:
            break
        time.sleep(0.05)
    # nginx keeps entries in whole seconds: s-maxage=1 serves an answer for one to two seconds.
    assert b"Stoneware Mug" in body and time.monotonic() - changed < 2.1, seen
