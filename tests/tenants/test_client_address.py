"""
The client address and scheme come from the proxy chain only when NUM_PROXIES says
how many proxies of ours stand in front (tenants.proxies): otherwise X-Forwarded-For
and X-Forwarded-Proto are the client's own words, and a fresh X-Forwarded-For must
not buy a fresh storefront budget, nor X-Forwarded-Proto switch links to https.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem
from tests.net import free_port

BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def budget(settings: Any) -> int:
    settings.RATE_LIMIT_STOREFRONT_PER_MINUTE = 3
    return 3


def storefront(api: Any, shop: ShopContext, **meta: str) -> Any:
    return api.get("/api/storefront/v1/products", {"q": meta.pop("q", "shirt")}, HTTP_HOST=shop.host, **meta)


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_buys_no_new_budget(api: Any, shop_a: ShopContext, budget: int) -> None:
    # Before: each new X-Forwarded-For value was a new client with a full budget, and with a
    # changing query every request rendered uncached. Now the socket's peer is the client.
    for index in range(budget):
        answer = storefront(api, shop_a, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.9.0.{index}")
        assert answer.status_code == 200, answer.content
    refused = storefront(api, shop_a, q="other", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    body = assert_problem(refused, 429)
    assert body["code"] == "rate_limited" and int(refused["Retry-After"]) >= 1
    # Another peer is another client.
    assert storefront(api, shop_a, REMOTE_ADDR="198.51.100.8").status_code == 200


@pytest.mark.django_db
def test_behind_trusted_proxies_the_client_is_that_many_hops_back(
    api: Any, shop_a: ShopContext, budget: int, settings: Any
) -> None:
    settings.NUM_PROXIES = 1
    edge = "172.18.0.5"  # every request arrives from the edge proxy
    # The edge appended what it saw; whatever the client put further left is ignored.
    for index in range(budget):
        forwarded = f"10.1.1.{index}, 203.0.113.20"
        assert storefront(api, shop_a, REMOTE_ADDR=edge, HTTP_X_FORWARDED_FOR=forwarded).status_code == 200
    assert_problem(storefront(api, shop_a, REMOTE_ADDR=edge, HTTP_X_FORWARDED_FOR="203.0.113.20"), 429)
    # Another client behind the same edge keeps its own budget.
    assert storefront(api, shop_a, REMOTE_ADDR=edge, HTTP_X_FORWARDED_FOR="203.0.113.21").status_code == 200
    # A garbled hop falls back to the peer, never to a string the client chose.
    assert storefront(api, shop_a, REMOTE_ADDR=edge, HTTP_X_FORWARDED_FOR="not-an-ip").status_code == 200


@pytest.mark.django_db
def test_an_ipv6_client_has_one_budget_for_its_64(api: Any, shop_a: ShopContext, budget: int) -> None:
    for index in range(budget):
        assert storefront(api, shop_a, REMOTE_ADDR=f"2001:db8:1:2::{index + 1:x}").status_code == 200
    assert_problem(storefront(api, shop_a, REMOTE_ADDR="2001:db8:1:2:ffff::1"), 429)
    assert storefront(api, shop_a, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.fixture
def request_lines() -> Iterator[list[logging.LogRecord]]:
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    handler = Catch(level=logging.INFO)
    logger = logging.getLogger("storefleet.request")
    logger.addHandler(handler)
    try:
        yield caught
    finally:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_the_request_log_names_the_client_the_limiter_counted(
    api: Any, shop_a: ShopContext, settings: Any, request_lines: list[logging.LogRecord]
) -> None:
    api.get(
        "/api/storefront/v1/shop",
        HTTP_HOST=shop_a.host,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    settings.NUM_PROXIES = 1
    api.get(
        "/api/storefront/v1/shop",
        HTTP_HOST=shop_a.host,
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.20",
    )
    first, second = (record.__dict__ for record in request_lines)
    assert (first["client_addr"], first["remote_addr"]) == ("198.51.100.7", "198.51.100.7")
    assert (second["client_addr"], second["remote_addr"]) == ("203.0.113.20", "172.18.0.5")


@pytest.mark.django_db
def test_metrics_behind_a_proxy_check_the_client_not_the_proxy(api: Any, settings: Any) -> None:
    # A proxy on loopback: without this, every client it forwards would read /metrics.
    settings.NUM_PROXIES = 1
    assert_problem(api.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"), 403)
    assert api.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200  # a scraper, not proxied


@pytest.mark.django_db
def test_x_forwarded_proto_switches_links_only_behind_trusted_proxies(
    api: Any, shop_a: ShopContext, settings: Any, media_root: Path
) -> None:
    admin = AdminClient(api, shop_a)
    product = admin.post("products", product_body()).json()

    def upload_url(**meta: str) -> str:
        answer = admin.post(
            f"products/{product['id']}/images", {"filename": "a.png", "content_type": "image/png"}, **meta
        )
        assert answer.status_code == 201, answer.content
        return str(answer.json()["upload"]["url"])

    assert upload_url(HTTP_X_FORWARDED_PROTO="https").startswith("http://")
    settings.NUM_PROXIES = 1
    settings.SECURE_PROXY_SSL_HEADER = (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )  # as config/settings.py sets it then
    assert upload_url(HTTP_X_FORWARDED_PROTO="https").startswith("https://")
    assert upload_url().startswith("http://")


# --- Through gunicorn, as config/gunicorn.py runs it ------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def gunicorn(committed_shop: ShopContext, django_db_blocker: Any, tmp_path: Path) -> Iterator[int]:
    """gunicorn with config/gunicorn.py (one worker) against the test database; yields its port."""
    port = free_port()
    with django_db_blocker.unblock():
        url = _database_url()
    env = {
        **os.environ,
        "STOREFLEET_TESTING": "1",
        "DATABASE_URL": url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": str(BASE_DIR),
    }
    env.pop("NUM_PROXIES", None)
    (tmp_path / "prometheus").mkdir()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "-c",
            "config/gunicorn.py",
            "--no-control-socket",
            "config.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _post(port: int, shop: ShopContext, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/admin/v1/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Host": shop.host,
            "Content-Type": "application/json",
            "Authorization": f"Bearer {shop.token()}",
            **headers,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_gunicorn_lets_no_local_client_switch_the_scheme(gunicorn: int, committed_shop: ShopContext) -> None:
    # Before: gunicorn trusted X-Forwarded-Proto from 127.0.0.1 (its default
    # forwarded_allow_ips), so any client on the machine, or behind a proxy on it, got https links.
    product = _post(gunicorn, committed_shop, "products", product_body())
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}
    image = _post(
        gunicorn,
        committed_shop,
        f"products/{product['id']}/images",
        {"filename": "a.png", "content_type": "image/png"},
        **headers,
    )
    assert image["upload"]["url"].startswith(f"http://{committed_shop.host}/"), image["upload"]["url"]
