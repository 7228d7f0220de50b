"""
Product images: presigned uploads straight to object storage,
confirm, thumbnails by a worker, reorder and delete, with S3 (moto's server
mode, reached through real boto3 and real HTTP) and with local storage (the
app's signed PUT URLs and media files).
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from catalog import images as image_services
from catalog import tasks
from catalog.errors import ImageRefused
from catalog.models import ProductImage
from tenants import storage
from tenants.audit.models import AuditEntry
from tenants.schemas import use_shop
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db


# --- Fixtures (moto_endpoint, s3 and media_root live in tests/conftest.py) ------------


@pytest.fixture
def admin(api: Any, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


@pytest.fixture
def product(admin: AdminClient) -> dict[str, Any]:
    response = admin.post("products", product_body())
    assert response.status_code == 201, response.content
    return response.json()


# --- Helpers -------------------------------------------------------------------------


def png_bytes(width: int = 900, height: int = 600, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 60) if mode == "RGB" else (200, 30, 60, 128)).save(out, "PNG")
    return out.getvalue()


def browser_post(upload: dict[str, Any], data: bytes, *, fields: dict[str, str] | None = None) -> int:
    """Send a presigned POST as a browser's form does: every field, then the file last."""
    boundary = f"----storefleet{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (fields or upload["fields"]).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        upload["url"],
        data=b"".join(parts),
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def local_put(api: Any, upload: dict[str, Any], data: bytes, **headers: str) -> Any:
    """PUT to a local upload URL as a browser's fetch() does, through the app."""
    url = urlsplit(upload["url"])
    content_type = headers.pop("content_type", upload["headers"]["Content-Type"])
    target = f"{url.path}?{url.query}" if url.query else url.path
    return api.generic("PUT", target, data, content_type=content_type, HTTP_HOST=url.hostname, **headers)


def s3_has(s3: Any, key: str) -> bool:
    try:
        s3.head_object(Bucket=s3.bucket, Key=key)
    except ClientError:
        return False
    return True


def start(
    admin: AdminClient, product_id: int, content_type: str = "image/png", **extra: Any
) -> dict[str, Any]:
    response = admin.post(
        f"products/{product_id}/images", {"filename": "photo.png", "content_type": content_type, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()


def image_row(ctx: ShopContext, image_id: int) -> ProductImage | None:
    use_shop(ctx.shop)
    return ProductImage.objects.filter(pk=image_id).first()


# --- S3 -------------------------------------------------------------------------------


def test_s3_upload_confirm_thumbnail_and_delete(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    s3: Any,
    settings: Any,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"], alt="Front view", size=50_000)
    upload = created["upload"]
    assert created["status"] == "pending" and created["url"] is None and created["thumbnail_url"] is None
    assert upload["method"] == "POST" and "headers" not in upload
    upload_key = upload["fields"]["key"]
    # The browser uploads beside the image's key, under uploads/ (never served); confirm moves it.
    assert upload_key.startswith(f"uploads/tenants/{shop_a.shop.schema_name}/products/{product['id']}/")
    assert upload_key.endswith(".png")
    key = upload_key.removeprefix("uploads/")
    assert upload["url"] == f"{settings.AWS_S3_ENDPOINT_URL}/{s3.bucket}"
    # The policy S3 enforces: this key, this content type, 1 byte to IMAGE_MAX_BYTES.
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, settings.IMAGE_MAX_BYTES] in policy["conditions"]
    assert {"key": upload_key} in policy["conditions"]

    original = png_bytes()
    assert browser_post(upload, original) == 204
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    body = admin.get(f"products/{product['id']}/images/{created['id']}").json()
    assert body["status"] == "ready" and body["alt"] == "Front view"
    assert s3_has(s3, key) and not s3_has(s3, upload_key)

    # The worker (run eagerly on commit) verified the image and stored a thumbnail beside it.
    thumbnail_key = f"{key.rsplit('/', 1)[0]}/thumbnails/{key.rsplit('/', 1)[1].split('.')[0]}.webp"
    assert s3.head_object(Bucket=s3.bucket, Key=thumbnail_key)["ContentType"] == "image/webp"
    assert http_get(body["url"]) == original  # presigned GET
    thumbnail = Image.open(io.BytesIO(http_get(body["thumbnail_url"])))
    assert thumbnail.format == "WEBP" and thumbnail.size == (400, 267)
    assert [image["id"] for image in admin.get(f"products/{product['id']}").json()["images"]] == [
        created["id"]
    ]
    use_shop(shop_a.shop)
    assert AuditEntry.objects.filter(action="product.image_added", object_id=product["id"]).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}/images/{created['id']}").status_code == 204
    assert not s3_has(s3, key) and not s3_has(s3, thumbnail_key)
    assert image_row(shop_a, created["id"]) is None
    assert_problem(admin.get(f"products/{product['id']}/images/{created['id']}"), 404)


def test_s3_confirm_refuses_and_deletes_an_oversized_or_mistyped_upload(
    admin: AdminClient, shop_a: ShopContext, product: dict[str, Any], s3: Any, settings: Any
) -> None:
    settings.IMAGE_MAX_BYTES = 2_000
    too_big = start(admin, product["id"])
    assert browser_post(too_big["upload"], b"x" * 2_001) == 204  # moto does not enforce the policy; S3 would
    body = assert_problem(admin.post(f"products/{product['id']}/images/{too_big['id']}/confirm"), 400)
    assert body["code"] == "image_refused" and "file" in body["errors"]
    assert not s3_has(s3, too_big["upload"]["fields"]["key"])
    assert image_row(shop_a, too_big["id"]).status == ProductImage.Status.PENDING

    mistyped = start(admin, product["id"])
    fields = {**mistyped["upload"]["fields"], "Content-Type": "text/html"}
    assert browser_post(mistyped["upload"], b"<script>alert(1)</script>", fields=fields) == 204
    assert_problem(admin.post(f"products/{product['id']}/images/{mistyped['id']}/confirm"), 400)
    assert not s3_has(s3, mistyped["upload"]["fields"]["key"])


def test_s3_fake_image_bytes_are_refused_by_the_thumbnailer(
    admin: AdminClient, shop_a: ShopContext, product: dict[str, Any], s3: Any
) -> None:
    created = start(admin, product["id"], content_type="image/gif")
    browser_post(created["upload"], b"GIF89a but not really an image at all")
    assert admin.post(f"products/{product['id']}/images/{created['id']}/confirm").status_code == 200
    use_shop(shop_a.shop)
    result = tasks.image_thumbnail_make.apply(args=[created["id"]])
    assert result.successful(), result.traceback
    assert image_row(shop_a, created["id"]) is None
    refused = AuditEntry.objects.get(action="product.image_refused")
    assert "not a readable image" in refused.before["reason"]
    # Its object goes once the refusal commits (the test transaction never does: run the deletion here).
    key = created["upload"]["fields"]["key"].removeprefix("uploads/")
    storage.objects_delete([key])
    assert not s3_has(s3, key)


# --- Local storage --------------------------------------------------------------------


def test_local_upload_confirm_thumbnail_and_delete(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"], content_type="image/jpeg")
    upload = created["upload"]
    assert upload["method"] == "PUT" and upload["headers"] == {"Content-Type": "image/jpeg"}
    assert upload["url"].startswith(f"http://{shop_a.host}/api/uploads?token=") and "fields" not in upload
    original_io = io.BytesIO()
    Image.new("RGB", (300, 1200), (10, 120, 40)).save(original_io, "JPEG")
    original = original_io.getvalue()
    assert local_put(api, upload, original).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    body = admin.get(f"products/{product['id']}/images/{created['id']}").json()
    row = image_row(shop_a, created["id"])
    # Same key layout on disk as in the bucket.
    assert row.key.startswith(f"tenants/{shop_a.shop.schema_name}/products/{product['id']}/")
    assert (media_root / row.key).read_bytes() == original
    assert (media_root / row.thumbnail_key).is_file() and "/thumbnails/" in row.thumbnail_key
    assert body["url"] == f"/media/{row.key}" and body["thumbnail_url"] == f"/media/{row.thumbnail_key}"

    served = api.get(body["url"], HTTP_HOST=shop_a.host)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == original  # read to the end, the test client closes it
    thumb = api.get(body["thumbnail_url"], HTTP_HOST=shop_a.host)
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (100, 400)

    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}/images/{created['id']}").status_code == 204
    assert not (media_root / row.key).exists() and not (media_root / row.thumbnail_key).exists()
    assert_problem(api.get(body["url"], HTTP_HOST=shop_a.host), 404)


def test_deleting_the_product_deletes_its_image_files(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"], content_type="image/png")
    picture = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 10, 10)).save(picture, "PNG")
    assert local_put(api, created["upload"], picture.getvalue()).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    row = image_row(shop_a, created["id"])
    assert (media_root / row.key).is_file() and (media_root / row.thumbnail_key).is_file()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}").status_code == 204
    assert not (media_root / row.key).exists() and not (media_root / row.thumbnail_key).exists()


def test_local_upload_url_refuses_what_its_token_does_not_allow(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    shop_b: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    settings: Any,
) -> None:
    settings.IMAGE_MAX_BYTES = 1_000
    upload = start(admin, product["id"])["upload"]
    path = urlsplit(upload["url"]).path
    target = f"{path}?{urlsplit(upload['url']).query}"
    token = parse_qs(urlsplit(upload["url"]).query)["token"][0]

    assert_problem(local_put(api, upload, b"x" * 10, content_type="text/html"), 415)
    assert_problem(local_put(api, upload, b"x" * 1_001), 413)
    assert_problem(local_put(api, upload, b""), 411)  # no Content-Length
    assert_problem(local_put(api, upload, b"", CONTENT_LENGTH="0"), 400)

    def with_token(value: str) -> dict[str, Any]:
        return {**upload, "url": f"http://{shop_a.host}{path}?{urlencode({'token': value})}"}

    tampered = with_token(token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    assert assert_problem(local_put(api, tampered, b"x" * 10), 403)["code"] == "upload_url_invalid"
    forged = with_token(token.split(":")[0] + ":x:y")
    assert_problem(local_put(api, forged, b"x" * 10), 403)
    # Another shop's host will not write into this shop's folder.
    assert_problem(
        api.generic("PUT", target, b"x" * 10, content_type="image/png", HTTP_HOST=shop_b.host), 403
    )
    assert_problem(api.get(target, HTTP_HOST=shop_a.host), 405)
    assert_problem(api.generic("PUT", path, b"x" * 10, content_type="image/png", HTTP_HOST=shop_a.host), 403)
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))

    settings.UPLOAD_URL_SECONDS = -1
    expired = start(admin, product["id"])["upload"]
    assert assert_problem(local_put(api, expired, b"x" * 10), 403)["code"] == "upload_url_expired"

    settings.STORAGE = "s3"  # the app's upload URLs and media exist only with local storage
    assert_problem(local_put(api, upload, b"x" * 10), 404)


def test_local_media_serves_only_this_shops_well_formed_keys(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    shop_b: ShopContext,
    product: dict[str, Any],
    media_root: Path,
) -> None:
    created = start(admin, product["id"])
    local_put(api, created["upload"], png_bytes(20, 20))
    admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    key = image_row(shop_a, created["id"]).key
    (media_root / "secret.txt").write_text("not for the web")
    served = api.get(f"/media/{key}", HTTP_HOST=shop_a.host)
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert_problem(api.get(f"/media/{key}", HTTP_HOST=shop_b.host), 404)
    schema_b = shop_b.shop.schema_name
    for path in (
        f"/media/tenants/{schema_b}/../{shop_a.shop.schema_name}/{key.split('/', 2)[2]}",
        f"/media/{key.rsplit('/', 1)[0]}/../../../../secret.txt",
        "/media/secret.txt",
        f"/media/{key}/",
    ):
        assert_problem(api.get(path, HTTP_HOST=shop_b.host if schema_b in path else shop_a.host), 404)
    assert_problem(api.post(f"/media/{key}", HTTP_HOST=shop_a.host), 405)


# --- Refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filename": "page.html", "content_type": "text/html"}, "content_type"),
        ({"filename": "logo.svg", "content_type": "image/svg+xml"}, "content_type"),
        ({"filename": "big.png", "content_type": "image/png", "size": 10 * 1024 * 1024 + 1}, "size"),
        ({"filename": "x.png"}, "content_type"),
        ({"filename": 7, "content_type": "image/png"}, "filename"),
        ({"filename": "x.png", "content_type": "image/png", "size": 0}, "size"),
    ],
    ids=["html", "svg", "declared-too-big", "no-content-type", "filename-not-a-string", "size-zero"],
)
def test_start_refuses_anything_but_an_image_of_a_sane_size(
    admin: AdminClient,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    body: dict[str, Any],
    field: str,
) -> None:
    problem = assert_problem(admin.post(f"products/{product['id']}/images", body), 400)
    assert field in problem["errors"]
    use_shop(shop_a.shop)
    assert not ProductImage.objects.exists()
    assert not media_root.exists()


def test_confirm_before_upload_is_a_conflict(
    admin: AdminClient, shop_a: ShopContext, product: dict[str, Any], s3: Any
) -> None:
    created = start(admin, product["id"])
    body = assert_problem(admin.post(f"products/{product['id']}/images/{created['id']}/confirm"), 409)
    assert body["code"] == "image_not_uploaded"
    assert image_row(shop_a, created["id"]).status == ProductImage.Status.PENDING


def test_unknown_products_and_images_are_404(
    admin: AdminClient, product: dict[str, Any], media_root: Path
) -> None:
    other = admin.post("products", product_body("Other Product")).json()
    created = start(admin, product["id"])
    missing = product["id"] + other["id"] + 1000
    assert_problem(
        admin.post(f"products/{missing}/images", {"filename": "a.png", "content_type": "image/png"}), 404
    )
    assert_problem(admin.get(f"products/{missing}/images"), 404)
    assert_problem(admin.post(f"products/{missing}/images/reorder", {"order": [created["id"]]}), 404)
    for path in (
        f"products/{product['id']}/images/{created['id'] + 1000}",
        f"products/{other['id']}/images/{created['id']}",  # an image of another product
    ):
        assert_problem(admin.get(path), 404)
        assert_problem(admin.post(f"{path}/confirm"), 404)
        assert_problem(admin.delete(path), 404)


def test_another_shops_images_are_unreachable(
    api: Any,
    admin: AdminClient,
    shop_a: ShopContext,
    shop_b: ShopContext,
    product: dict[str, Any],
    media_root: Path,
) -> None:
    created = start(admin, product["id"])
    shop_b_admin = AdminClient(api, shop_b)
    # Shop B's own product (quite possibly with the same id) does not reach shop A's image either.
    bravo = shop_b_admin.post("products", product_body("Bravo Product")).json()
    for product_id in {product["id"], bravo["id"]}:
        path = f"products/{product_id}/images/{created['id']}"
        assert_problem(shop_b_admin.get(path), 404)
        assert_problem(shop_b_admin.post(f"{path}/confirm"), 404)
        assert_problem(shop_b_admin.delete(path), 404)
    assert shop_b_admin.get(f"products/{bravo['id']}/images").json()["results"] == []
    path = f"products/{product['id']}/images/{created['id']}"
    # Shop A's owner token on shop B's host gets nowhere.
    cross = AdminClient(api, shop_b, authorization=f"Bearer {shop_a.token()}")
    assert_problem(cross.get(path), 403)
    assert image_row(shop_a, created["id"]) is not None


# --- Reorder, scopes, storefront --------------------------------------------------------


def test_reorder(admin: AdminClient, shop_a: ShopContext, product: dict[str, Any], media_root: Path) -> None:
    a, b, c = (start(admin, product["id"])["id"] for _ in range(3))
    response = admin.post(f"products/{product['id']}/images/reorder", {"order": [c, a]})
    assert response.status_code == 200, response.content
    assert [(i["id"], i["position"]) for i in response.json()] == [(c, 0), (a, 1), (b, 2)]
    assert [i["id"] for i in admin.get(f"products/{product['id']}").json()["images"]] == [c, a, b]
    use_shop(shop_a.shop)
    entry = AuditEntry.objects.get(action="product.images_reordered")
    assert entry.before == {"images": [a, b, c]} and entry.after == {"images": [c, a, b]}

    other = admin.post("products", product_body("Other")).json()
    foreign = start(admin, other["id"])["id"]
    for order in ([a, a], [a, foreign], [], ["a"], "a", [0]):
        problem = assert_problem(
            admin.post(f"products/{product['id']}/images/reorder", {"order": order}), 400
        )
        assert all(field.startswith("order") for field in problem["errors"]), problem
    assert [i["id"] for i in admin.get(f"products/{product['id']}/images").json()["results"]] == [c, a, b]


def test_alt_text_is_editable(
    api: Any,
    admin: AdminClient,
    shop_a: ShopContext,
    shop_b: ShopContext,
    product: dict[str, Any],
    media_root: Path,
) -> None:
    created = start(admin, product["id"], alt="first words")
    path = f"products/{product['id']}/images/{created['id']}"
    response = admin.patch(path, {"alt": "A blue teapot on a table"})
    assert response.status_code == 200, response.content
    assert response.json()["alt"] == "A blue teapot on a table"
    assert admin.get(path).json()["alt"] == "A blue teapot on a table"
    use_shop(shop_a.shop)
    entry = AuditEntry.objects.get(action="product.image_updated")
    assert entry.before["alt"] == "first words" and entry.after["alt"] == "A blue teapot on a table"
    assert admin.patch(path, {"alt": ""}).json()["alt"] == ""

    # Bad input is refused with a problem and changes nothing.
    admin.patch(path, {"alt": "kept"})
    assert admin.patch(path, {}).json()["alt"] == "kept"  # nothing to change
    for body in ({"alt": 7}, {"alt": None}, {"alt": "x" * 256}, ["alt"]):
        assert_problem(admin.patch(path, body), 400)
    for raw in (b'{"alt": "nul\\u0000byte"}', b'{"alt": "lone \\ud800 surrogate"}', b'{"alt": '):
        response = api.generic(
            "PATCH", f"/api/admin/v1/{path}", raw, content_type="application/json", **admin.headers
        )
        assert_problem(response, 400)
    assert image_row(shop_a, created["id"]).alt == "kept"
    options = api.options(f"/api/admin/v1/{path}", **admin.headers)
    assert options.status_code == 200 and "PATCH" in options["Allow"]

    # Another product's path, an unknown id and another shop reach nothing.
    other = admin.post("products", product_body("Other Product")).json()
    assert_problem(admin.patch(f"products/{other['id']}/images/{created['id']}", {"alt": "no"}), 404)
    assert_problem(admin.patch(f"{path}0", {"alt": "no"}), 404)
    shop_b_admin = AdminClient(api, shop_b)
    assert_problem(shop_b_admin.patch(path, {"alt": "no"}), 404)
    assert image_row(shop_a, created["id"]).alt == "kept"


def test_read_scope_cannot_write_images(
    api: Any, admin: AdminClient, product: dict[str, Any], media_root: Path
) -> None:
    created = start(admin, product["id"])
    key = admin.post("api-keys", {"name": "reader", "scopes": ["catalog:read"]}).json()["key"]
    reader = AdminClient(api, admin.ctx, authorization=f"Api-Key {key}")
    base = f"products/{product['id']}/images"
    assert reader.get(base).status_code == 200
    assert reader.get(f"{base}/{created['id']}").status_code == 200
    assert_problem(reader.post(base, {"filename": "a.png", "content_type": "image/png"}), 403)
    assert_problem(reader.post(f"{base}/{created['id']}/confirm"), 403)
    assert_problem(reader.post(f"{base}/reorder", {"order": [created["id"]]}), 403)
    assert_problem(reader.patch(f"{base}/{created['id']}", {"alt": "read only"}), 403)
    assert_problem(reader.delete(f"{base}/{created['id']}"), 403)


def test_storefront_shows_ready_images_with_urls(
    api: Any, admin: AdminClient, shop_a: ShopContext, product: dict[str, Any], media_root: Path
) -> None:
    ready = start(admin, product["id"])
    local_put(api, ready["upload"], png_bytes(40, 40))
    admin.post(f"products/{product['id']}/images/{ready['id']}/confirm")
    use_shop(shop_a.shop)
    image_services.image_thumbnail_make(image_id=ready["id"])
    start(admin, product["id"])  # pending: not shown

    # A query of its own: a cached answer from an earlier test of a shop with this schema name cannot match.
    response = api.get(
        f"/api/storefront/v1/products/{product['slug']}?t={uuid.uuid4().hex}", HTTP_HOST=shop_a.host
    )
    assert response.status_code == 200, response.content
    (shown,) = response.json()["images"]
    row = image_row(shop_a, ready["id"])
    assert shown["id"] == ready["id"]
    assert shown["url"] == f"/media/{row.key}" and shown["thumbnail_url"] == f"/media/{row.thumbnail_key}"
    admin_images = admin.get(f"products/{product['id']}/images").json()["results"]
    assert [i["status"] for i in admin_images] == ["ready", "pending"]


# --- Thumbnails -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png_bytes(1200, 300), (400, 100)),
        (png_bytes(50, 80, mode="RGBA"), (50, 80)),  # small images are not enlarged; alpha survives
    ],
    ids=["wide", "small-rgba"],
)
def test_thumbnail_render(data: bytes, size: tuple[int, int]) -> None:
    thumbnail = Image.open(io.BytesIO(image_services.thumbnail_render(data)))
    assert thumbnail.format == "WEBP" and thumbnail.size == size


@pytest.mark.parametrize(
    "data",
    [
        b"not an image",
        png_bytes(10, 10)[:40],  # truncated
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["text", "truncated-png", "svg"],
)
def test_thumbnail_render_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(ImageRefused):
        image_services.thumbnail_render(data)


# --- Widths for srcset -------------------------------------------------------------------


def jpeg_bytes(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "widths"),
    [
        ((3000, 1500), [160, 320, 640, 1280]),
        ((1280, 640), [160, 320, 640, 1280]),
        ((1000, 3000), [160, 320, 640, 1000]),  # tall: widths, not heights, are what srcset counts
        ((300, 200), [160, 300]),
        ((160, 160), [160]),
        ((50, 80), [50]),  # smaller than the narrowest: only its own width, never enlarged
    ],
)
def test_renditions_render_every_width_up_to_the_original(size: tuple[int, int], widths: list[int]) -> None:
    thumbnail, renditions = image_services.renditions_render(jpeg_bytes(*size))
    assert [r.width for r in renditions] == widths == image_services.rendition_widths(size[0])
    for rendition in renditions:
        decoded = Image.open(io.BytesIO(rendition.data))
        assert decoded.format == "WEBP" and decoded.size == (rendition.width, rendition.height)
        assert rendition.width <= size[0] and rendition.height <= size[1]
        assert abs(rendition.height / rendition.width - size[1] / size[0]) < 0.01  # aspect ratio kept
    assert max(Image.open(io.BytesIO(thumbnail)).size) == min(400, max(size))


def test_renditions_follow_exif_orientation_and_keep_alpha() -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated a quarter turn
    Image.new("RGB", (800, 400)).save(out, "JPEG", exif=exif)
    _, renditions = image_services.renditions_render(out.getvalue())
    assert [(r.width, r.height) for r in renditions] == [(160, 320), (320, 640), (400, 800)]
    _, transparent = image_services.renditions_render(png_bytes(200, 100, mode="RGBA"))
    assert Image.open(io.BytesIO(transparent[0].data)).mode == "RGBA"


def test_the_worker_stores_every_width_and_the_apis_show_them(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"], content_type="image/jpeg")
    assert local_put(api, created["upload"], jpeg_bytes(1500, 900)).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):  # the confirm queues the worker's task
        assert admin.post(f"products/{product['id']}/images/{created['id']}/confirm").status_code == 200
    row = image_row(shop_a, created["id"])
    assert [(r["width"], r["height"]) for r in row.renditions] == [
        (160, 96),
        (320, 192),
        (640, 384),
        (1280, 768),
    ]
    folder, name = row.key.rsplit("/", 1)
    stem = name.split(".")[0]
    assert [r["key"] for r in row.renditions] == [
        f"{folder}/thumbnails/{stem}-{w}w.webp" for w in (160, 320, 640, 1280)
    ]
    for rendition in row.renditions:
        stored = Image.open(media_root / rendition["key"])
        assert stored.format == "WEBP" and stored.size == (rendition["width"], rendition["height"])

    expected = [
        {"url": f"/media/{r['key']}", "width": r["width"], "height": r["height"]} for r in row.renditions
    ]
    assert admin.get(f"products/{product['id']}/images/{created['id']}").json()["renditions"] == expected
    assert admin.get(f"products/{product['id']}").json()["images"][0]["renditions"] == expected
    shown = api.get(
        f"/api/storefront/v1/products/{product['slug']}?t={uuid.uuid4().hex}", HTTP_HOST=shop_a.host
    ).json()
    assert shown["images"][0]["renditions"] == expected
    served = api.get(expected[1]["url"], HTTP_HOST=shop_a.host)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (320, 192)
    # Not a width of this image: not served, whatever its name.
    assert api.get(expected[1]["url"].replace("-320w", "-321w"), HTTP_HOST=shop_a.host).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}/images/{created['id']}").status_code == 204
    assert not any((media_root / r["key"]).exists() for r in row.renditions)


def test_deleting_a_product_deletes_its_widths(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = start(admin, product["id"])
    local_put(api, created["upload"], png_bytes(500, 500))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    keys = [r["key"] for r in image_row(shop_a, created["id"]).renditions]
    assert len(keys) == 3 and all((media_root / key).is_file() for key in keys)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete(f"products/{product['id']}").status_code == 204
    assert not any((media_root / key).exists() for key in keys)


def test_images_rethumbnail_gives_older_images_their_widths(
    admin: AdminClient,
    api: Any,
    shop_a: ShopContext,
    product: dict[str, Any],
    media_root: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.management import call_command

    created = start(admin, product["id"])
    local_put(api, created["upload"], png_bytes(700, 350))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"products/{product['id']}/images/{created['id']}/confirm")
    use_shop(shop_a.shop)
    # As an image made before widths existed: a thumbnail, no widths.
    ProductImage.objects.filter(pk=created["id"]).update(renditions=[])
    out = io.StringIO()
    call_command("images_rethumbnail", "--shop", shop_a.shop.slug, stdout=out)  # queued; run eagerly here
    assert f"{shop_a.shop.slug}: queued 1 image(s)" in out.getvalue()
    use_shop(shop_a.shop)
    assert [r["width"] for r in image_row(shop_a, created["id"]).renditions] == [160, 320, 640, 700]
    call_command("images_rethumbnail", "--shop", shop_a.shop.slug, "--inline", stdout=out)
    assert f"{shop_a.shop.slug}: made 0 image(s)" in out.getvalue()  # done ones are left alone
    shown = api.get(
        f"/api/storefront/v1/products/{product['slug']}?t={uuid.uuid4().hex}", HTTP_HOST=shop_a.host
    ).json()
    assert [r["width"] for r in shown["images"][0]["renditions"]] == [160, 320, 640, 700]
