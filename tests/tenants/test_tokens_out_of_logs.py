"""
Signed upload and download tokens travel in the query string, which the app's
request log and the edge's access log leave out: a log reader cannot replay them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from tests.catalog.helpers import AdminClient
from tests.catalog.test_images import local_put, png_bytes
from tests.conftest import PLATFORM, ShopContext, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged() -> Iterator[list[str]]:
    """Every request log record, rendered with its fields."""
    lines: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.getMessage()} {record.__dict__}")

    handler = Catch(level=logging.DEBUG)
    logger = logging.getLogger("storefleet.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_upload_and_download_tokens_stay_out_of_the_request_log(
    api: Any,
    shop_a: ShopContext,
    media_root: Path,
    logged: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    admin = AdminClient(api, shop_a)
    product = admin.post("products", {"title": "Mug", "variants": [{"sku": "M", "price": "5.00"}]}).json()
    upload = admin.post(
        f"products/{product['id']}/images", {"filename": "a.png", "content_type": "image/png"}
    )
    upload_url = upload.json()["upload"]["url"]
    assert local_put(api, upload.json()["upload"], png_bytes(10, 10)).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        export = api.post(
            f"/api/platform/v1/shops/{shop_a.shop.slug}/export", **PLATFORM, **bearer(shop_a.token())
        )
    detail = api.get(
        f"/api/platform/v1/shops/{shop_a.shop.slug}/exports/{export.json()['id']}",
        **PLATFORM,
        **bearer(shop_a.token()),
    ).json()
    download = api.get(detail["download_url"], **PLATFORM)
    assert download.status_code == 200
    b"".join(download.streaming_content)

    tokens = [parse_qs(urlsplit(url).query)["token"][0] for url in (upload_url, detail["download_url"])]
    # Before: /api/uploads/<token> and /api/downloads/<token>, path and all, in every log line.
    assert any("/api/uploads" in line for line in logged) and any("/api/downloads" in line for line in logged)
    for token in tokens:
        assert not any(token in line or token.split(":")[-1] in line for line in logged)


def test_the_edge_logs_paths_without_their_query() -> None:
    conf = (Path(settings.BASE_DIR) / "docker" / "nginx" / "edge.conf").read_text()
    log_format = conf.split("log_format", 1)[1].split(";", 1)[0]
    assert '"path":"$uri"' in log_format
    assert not re.search(r"\$(request_uri|args|query_string|request\b|arg_)", log_format)
