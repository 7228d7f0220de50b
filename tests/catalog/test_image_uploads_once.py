"""
An upload URL works once (issue 12, point 7): the bytes land under `uploads/`,
which nothing serves; confirm checks them (size, declared type, sniffed type) and
moves that very version to the image's key. A local upload URL is refused once
used, after confirm and after delete; /media serves confirmed images only; a
re-upload to S3 after confirm changes neither the served image nor the usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tenants import storage
from tests.catalog.helpers import AdminClient
from tests.catalog.test_images import browser_post, http_get, image_row, local_put, png_bytes, start
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer

pytestmark = pytest.mark.django_db

HTML = b"<html><script>document.title='owned'</script>" + b"x" * 2_000


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def product(admin: AdminClient) -> dict[str, Any]:
    response = admin.post(
        "products", {"title": "Mug", "status": "active", "variants": [{"sku": "MUG", "price": "9.00"}]}
    )
    assert response.status_code == 201, response.content
    return response.json()


def storage_used(api: Any, ctx: ShopContext) -> int:
    usage = api.get(f"/api/platform/v1/shops/{ctx.shop.slug}/usage", **PLATFORM, **bearer(ctx.token()))
    assert usage.status_code == 200, usage.content
    return int(usage.json()["storage_bytes"]["used"])


def media(api: Any, ctx: ShopContext, key: str) -> Any:
    return api.get(f"/media/{key}", HTTP_HOST=ctx.host)


def test_a_local_upload_url_is_refused_after_confirm(
    admin: AdminClient, api: Any, shop_a: ShopContext, product: dict[str, Any], media_root: Path
) -> None:
    created = start(admin, product["id"])
    original = png_bytes(30, 30)
    assert local_put(api, created["upload"], original).status_code == 204
    assert admin.post(f"products/{product['id']}/images/{created['id']}/confirm").status_code == 200
    key = image_row(shop_a, created["id"]).key
    used = storage_used(api, shop_a)
    assert used == len(original)

    # Before: 204, and /media then served these 2 kB of HTML as image/png, storage_bytes unchanged.
    again = local_put(api, created["upload"], HTML)
    assert assert_problem(again, 403)["code"] == "upload_url_used"
    served = media(api, shop_a, key)
    assert served.status_code == 200 and b"".join(served.streaming_content) == original
    assert storage_used(api, shop_a) == used
    assert not any(path.read_bytes() == HTML for path in media_root.rglob("*") if path.is_file())


def test_a_local_upload_url_writes_once_even_before_confirm(
    admin: AdminClient, api: Any, shop_a: ShopContext, product: dict[str, Any], media_root: Path
) -> None:
    created = start(admin, product["id"])
    original = png_bytes(20, 20)
    assert local_put(api, created["upload"], original).status_code == 204
    assert (
        assert_problem(local_put(api, created["upload"], png_bytes(40, 40)), 403)["code"] == "upload_url_used"
    )
    assert admin.post(f"products/{product['id']}/images/{created['id']}/confirm").status_code == 200
    key = image_row(shop_a, created["id"]).key
    assert (media_root / key).read_bytes() == original


def test_unconfirmed_uploads_are_not_served(
    admin: AdminClient, api: Any, shop_a: ShopContext, product: dict[str, Any], media_root: Path
) -> None:
    created = start(admin, product["id"])
    assert local_put(api, created["upload"], png_bytes(20, 20)).status_code == 204
    key = image_row(shop_a, created["id"]).key
    # Before: the uploaded file was at the image's key and served at once, confirmed or not.
    assert_problem(media(api, shop_a, key), 404)
    assert_problem(media(api, shop_a, storage.upload_key_for(key)), 404)
    # A file at an image's key that no confirmed image owns is not served either.
    (media_root / key).parent.mkdir(parents=True, exist_ok=True)
    (media_root / key).write_bytes(png_bytes(5, 5))
    assert_problem(media(api, shop_a, key), 404)


def test_a_deleted_images_upload_url_and_files_are_refused(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    pending = start(admin, product["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}/images/{pending['id']}").status_code == 204
    # Before: the URL of a deleted image still wrote its file, and /media served it.
    assert (
        assert_problem(local_put(api, pending["upload"], png_bytes(20, 20)), 403)["code"] == "upload_url_used"
    )
    assert not any(path.is_file() for path in media_root.rglob("*"))

    ready = start(admin, product["id"])
    local_put(api, ready["upload"], png_bytes(20, 20))
    admin.post(f"products/{product['id']}/images/{ready['id']}/confirm")
    key = image_row(shop_a, ready["id"]).key
    # The delete's file removal runs after commit; until then (or if it failed) nothing is served.
    assert admin.delete(f"products/{product['id']}/images/{ready['id']}").status_code == 204
    assert (media_root / key).is_file()
    assert_problem(media(api, shop_a, key), 404)


def test_confirm_refuses_bytes_that_are_not_the_declared_type(
    admin: AdminClient, api: Any, shop_a: ShopContext, product: dict[str, Any], media_root: Path
) -> None:
    created = start(admin, product["id"])
    assert local_put(api, created["upload"], HTML).status_code == 204  # sent as image/png
    # Before: confirmed (200), counted and served as image/png until the thumbnailer ran.
    body = assert_problem(admin.post(f"products/{product['id']}/images/{created['id']}/confirm"), 400)
    assert body["code"] == "image_refused" and "not an accepted image" in body["detail"]
    assert image_row(shop_a, created["id"]).status == "pending"
    assert storage_used(api, shop_a) == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))

    gif_as_png = start(admin, product["id"])
    local_put(api, gif_as_png["upload"], b"GIF89a" + b"\x00" * 100)
    body = assert_problem(admin.post(f"products/{product['id']}/images/{gif_as_png['id']}/confirm"), 400)
    assert "image/gif, not image/png" in body["detail"]


def test_an_s3_upload_url_used_again_changes_neither_the_image_nor_the_usage(
    admin: AdminClient, api: Any, shop_a: ShopContext, product: dict[str, Any], s3: Any
) -> None:
    created = start(admin, product["id"])
    original = png_bytes(30, 30)
    assert browser_post(created["upload"], original) == 204
    assert admin.post(f"products/{product['id']}/images/{created['id']}/confirm").status_code == 200
    used = storage_used(api, shop_a)
    # S3 honours a presigned POST until it expires; the second one lands under uploads/ only.
    assert browser_post(created["upload"], png_bytes(300, 300)) == 204
    image = admin.get(f"products/{product['id']}/images/{created['id']}").json()
    assert http_get(image["url"]) == original
    assert storage_used(api, shop_a) == used == len(original)


def test_an_s3_upload_replaced_while_it_is_checked_is_not_confirmed(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = start(admin, product["id"])
    assert browser_post(created["upload"], png_bytes(10, 10)) == 204
    read_start = storage.object_read_start

    def replaced_meanwhile(key: str, **kwargs: Any) -> bytes:
        start_bytes = read_start(key, **kwargs)
        browser_post(created["upload"], png_bytes(500, 500))  # a second POST between check and move
        return start_bytes

    monkeypatch.setattr(storage, "object_read_start", replaced_meanwhile)
    body = assert_problem(admin.post(f"products/{product['id']}/images/{created['id']}/confirm"), 409)
    assert body["code"] == "upload_changed"
    assert image_row(shop_a, created["id"]).status == "pending"
    assert storage_used(api, shop_a) == 0


def test_deleting_a_product_removes_its_unconfirmed_uploads(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"])
    assert local_put(api, created["upload"], png_bytes(20, 20)).status_code == 204
    assert any(path.is_file() for path in media_root.rglob("*"))
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}").status_code == 204
    assert not any(path.is_file() for path in media_root.rglob("*"))
