"""
Product images: a client asks for an upload URL, sends the bytes straight to
object storage (S3, or the app's own signed URL with local storage), confirms,
and a worker makes the thumbnail and the widths `srcset` offers (RENDITION_WIDTHS).

    pending --confirm (object there, right size and type)--> ready --worker--> ready + thumbnail + widths
                                                               `--not really an image--> deleted

The bytes land at `uploads/{key}` (tenants.storage.upload_key_for), which is
never served; confirming checks them (size, declared type, and the type their
first bytes show) and moves that very version to `key`, so what is served and
what `storage_bytes` counts are the file that was checked. A local upload URL
writes once, and only while its image is pending.

Each write is one transaction with its audit entry and, where the storefront
sees the change, a `product.updated` event; objects are deleted after commit.
Keys: `tenants/{schema}/products/{product_id}/{uuid}.{ext}` for originals and
`.../products/{product_id}/thumbnails/{uuid}.webp` for their thumbnails and
`.../thumbnails/{uuid}-{width}w.webp` for their widths.
"""

from __future__ import annotations

import io
import logging
import posixpath
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, ImageOps

from billing.errors import LimitReached
from billing.limits import Metric
from billing.selectors import usage_allows
from billing.services import usage_release, usage_take
from catalog.changes import catalog_change_record
from catalog.errors import CatalogNotFound, ImageNotUploaded, ImageOrderInvalid, ImageRefused
from catalog.models import Product, ProductImage
from catalog.search import search_documents_refresh
from tenants import storage
from tenants.audit.services import Actor
from tenants.keys import storage_key

logger = logging.getLogger(__name__)

# The image types this code can store and thumbnail; IMAGE_CONTENT_TYPES picks among them.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
THUMBNAIL_BOX = (400, 400)
# The widths a picture is stored at for `srcset` (up to about a full-width phone at 3x).
RENDITION_WIDTHS = (160, 320, 640, 1280)
THUMBNAIL_CONTENT_TYPE = "image/webp"
# Larger images are refused rather than decoded (a 10 MB PNG can hold gigapixels).
MAX_PIXELS = 50_000_000
# What the first bytes of each accepted type are (its magic number).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),  # then 4 bytes of length, then WEBP (checked below)
}
SNIFF_BYTES = 16
# Pending images whose upload URL expired this long ago are abandoned, and purged.
PENDING_GRACE = timedelta(hours=1)
THUMBNAILER = Actor.system("thumbnailer")


def image_snapshot(image: ProductImage) -> dict[str, Any]:
    return {
        "id": image.pk,
        "key": image.key,
        "filename": image.filename,
        "content_type": image.content_type,
        "size": image.size,
        "alt": image.alt,
        "position": image.position,
    }


def allowed_content_types() -> list[str]:
    return [content_type for content_type in settings.IMAGE_CONTENT_TYPES if content_type in EXTENSIONS]


def thumbnail_key_for(key: str) -> str:
    """`.../products/7/abc.jpg` → `.../products/7/thumbnails/abc.webp` (a retry overwrites, never orphans)."""
    folder, name = posixpath.split(key)
    return f"{folder}/thumbnails/{posixpath.splitext(name)[0]}.webp"


def _stale_pending_purge(product: Product) -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_URL_SECONDS) - PENDING_GRACE
    stale = ProductImage.objects.filter(
        product=product, status=ProductImage.Status.PENDING, created_at__lt=cutoff
    )
    keys = list(stale.values_list("key", flat=True))
    if keys:
        stale.delete()
        storage.objects_delete_on_commit([storage.upload_key_for(key) for key in keys])


def image_upload_start(
    *,
    actor: Actor,
    product: Product,
    filename: str,
    content_type: str,
    size: int | None = None,
    alt: str = "",
) -> tuple[ProductImage, storage.UploadForm]:
    """Record a pending image and return it with the presigned upload the client sends its bytes to."""
    content_type = content_type.strip().lower()
    allowed = allowed_content_types()
    if content_type not in allowed:
        raise ImageRefused(
            f"{content_type or 'That content type'} is not an accepted image type.",
            errors={"content_type": [f"Choose from: {', '.join(allowed)}."]},
        )
    if size is not None and size > settings.IMAGE_MAX_BYTES:
        raise ImageRefused(
            f"Images may be at most {settings.IMAGE_MAX_BYTES} bytes.",
            errors={"size": [f"At most {settings.IMAGE_MAX_BYTES} bytes."]},
        )
    if size is not None:
        # Early word that the plan's storage is full; confirming is where the bytes are counted.
        usage_allows(metric=Metric.STORAGE_BYTES, amount=size)
    with transaction.atomic():
        # One at a time per product, so the count limit and positions hold under concurrency.
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        _stale_pending_purge(product)
        images = ProductImage.objects.filter(product=product)
        if images.count() >= settings.IMAGE_MAX_PER_PRODUCT:
            raise ImageRefused(
                f"A product can have at most {settings.IMAGE_MAX_PER_PRODUCT} images.",
                errors={"product": ["Delete an image first."]},
            )
        last = images.aggregate(last=Max("position"))["last"]
        image = ProductImage.objects.create(
            product=product,
            key=storage_key("products", product.pk, f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"),
            filename=filename,
            content_type=content_type,
            alt=alt,
            position=0 if last is None else last + 1,
        )
    upload = storage.upload_prepare(
        key=storage.upload_key_for(image.key), content_type=content_type, max_bytes=settings.IMAGE_MAX_BYTES
    )
    return image, upload


def _awaiting_upload(upload_key: str, *, lock: bool = False) -> ProductImage | None:
    """The pending image an upload key is for (`uploads/tenants/{schema}/products/{id}/{name}`), if any."""
    key = upload_key.removeprefix(storage.UPLOADS_PREFIX)
    parts = key.split("/")
    if len(parts) != 5 or parts[2] != "products" or not parts[3].isdigit():
        return None
    images = ProductImage.objects.filter(
        product_id=int(parts[3]), key=key, status=ProductImage.Status.PENDING
    )
    return (images.select_for_update() if lock else images).first()


def image_upload_receive(*, token: str, content_type: str, content_length: str | None, stream: Any) -> None:
    """
    Store the bytes PUT to a local upload URL: once, and only while its image is
    pending (a URL is refused after its upload, its image's confirm or delete).
    """
    grant = storage.upload_grant_read(token)
    if _awaiting_upload(grant.key) is None:
        raise storage.UploadUrlUsed("This upload URL is no longer valid: its image was confirmed or deleted.")
    storage.upload_receive(
        grant=grant, content_type=content_type, content_length=content_length, stream=stream
    )
    with transaction.atomic():
        # A confirm or delete that raced the body's arrival wins: waits for it, then drops the bytes.
        if _awaiting_upload(grant.key, lock=True) is None:
            storage.objects_delete([grant.key])
            raise storage.UploadUrlUsed(
                "This upload URL is no longer valid: its image was confirmed or deleted."
            )


def sniffed_type(start: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if start.startswith(signatures):
            if content_type == "image/webp" and start[8:12] != b"WEBP":
                continue
            return content_type
    return None


def image_upload_confirm(*, actor: Actor, image: ProductImage) -> ProductImage:
    """Check the uploaded object, make the image ready, queue its thumbnail; a second confirm is a no-op."""
    with transaction.atomic():
        locked = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None:
            raise CatalogNotFound("No image with that id on this product.")
        if locked.status == ProductImage.Status.READY:
            return locked
        upload_key = storage.upload_key_for(locked.key)
        stored = storage.object_stat(upload_key)
        if stored is None:
            raise ImageNotUploaded("Nothing has been uploaded for this image yet; upload it, then confirm.")
        problems = []
        if stored.size > settings.IMAGE_MAX_BYTES:
            problems.append(
                f"The file is {stored.size} bytes; at most {settings.IMAGE_MAX_BYTES} are accepted."
            )
        if stored.size == 0:
            problems.append("The file is empty.")
        if stored.content_type.split(";")[0].strip().lower() != locked.content_type:
            problems.append(f"The file was uploaded as {stored.content_type!r}, not {locked.content_type!r}.")
        if not problems:
            sniffed = sniffed_type(
                storage.object_read_start(upload_key, length=SNIFF_BYTES, etag=stored.etag)
            )
            if sniffed != locked.content_type:
                problems.append(
                    f"The file's bytes are {'not an accepted image' if sniffed is None else sniffed}, "
                    f"not {locked.content_type}."
                )
        if problems:
            # Not kept, whatever happens to this transaction; the client may upload again and confirm.
            storage.objects_delete([upload_key])
            raise ImageRefused(" ".join(problems), errors={"file": problems})
        try:
            # The plan's storage limit counts confirmed bytes; 402 (and the file removed) beyond it.
            usage_take(metric=Metric.STORAGE_BYTES, amount=stored.size)
        except LimitReached:
            storage.objects_delete([upload_key])
            raise
        # The very version checked and counted becomes the image (ObjectChanged, a 409, if it was replaced).
        storage.object_move(upload_key, locked.key, stored=stored)
        locked.status = ProductImage.Status.READY
        locked.size = stored.size
        locked.save(update_fields=["status", "size"])
        catalog_change_record(
            actor=actor,
            action="product.image_added",
            object_type="product",
            object_id=locked.product_id,
            after=image_snapshot(locked),
            products=[locked.product_id],
        )
        image_id = locked.pk
        transaction.on_commit(lambda: _thumbnail_queue(image_id))
    return locked


def image_import(
    *, actor: Actor, product: Product, data: bytes, content_type: str, alt: str, position: int
) -> ProductImage:
    """
    Add an image whose bytes the worker has (a product import's download): put them
    where an upload lands and confirm, so they are checked, counted against the
    plan's storage, moved, audited and thumbnailed as an uploaded image is.
    """
    image = ProductImage.objects.create(
        product=product,
        key=storage_key("products", product.pk, f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"),
        filename=f"imported.{EXTENSIONS[content_type]}",
        content_type=content_type,
        alt=alt,
        position=position,
    )
    storage.object_write(storage.upload_key_for(image.key), data, content_type=content_type)
    return image_upload_confirm(actor=actor, image=image)


def _thumbnail_queue(image_id: int) -> None:
    from catalog.tasks import image_thumbnail_make

    try:
        image_thumbnail_make.delay(image_id)
    except Exception:
        # The image is ready and shown without a thumbnail; the task can be run again for it.
        logger.warning("Could not queue the thumbnail of image %s", image_id, exc_info=True)


def image_reorder(*, actor: Actor, product: Product, order: list[int]) -> list[ProductImage]:
    """Put the listed images first, in that order; the others follow in their current order."""
    if len(set(order)) != len(order):
        raise ImageOrderInvalid("Each image may be listed once.", errors={"order": ["Ids repeat."]})
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        images = list(ProductImage.objects.filter(product=product).order_by("position", "id"))
        by_id = {image.pk: image for image in images}
        unknown = [image_id for image_id in order if image_id not in by_id]
        if unknown:
            raise ImageOrderInvalid(
                "The order names images this product does not have.",
                errors={"order": [f"Not images of this product: {', '.join(map(str, unknown[:20]))}."]},
            )
        listed = set(order)
        ordered = [by_id[image_id] for image_id in order] + [
            image for image in images if image.pk not in listed
        ]
        changed = []
        for position, image in enumerate(ordered):
            if image.position != position:
                image.position = position
                changed.append(image)
        if changed:
            ProductImage.objects.bulk_update(changed, ["position"])
            catalog_change_record(
                actor=actor,
                action="product.images_reordered",
                object_type="product",
                object_id=product.pk,
                before={"images": [image.pk for image in images]},
                after={"images": [image.pk for image in ordered]},
                products=[product.pk],
            )
    return ordered


def image_update(*, actor: Actor, image: ProductImage, alt: str) -> ProductImage:
    """Change an image's alt text (what screen readers and search engines read for it)."""
    with transaction.atomic():
        locked = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None:  # deleted since it was read
            raise CatalogNotFound("No such image.")
        if locked.alt == alt:
            return locked
        before = image_snapshot(locked)
        locked.alt = alt
        locked.save(update_fields=["alt"])
        catalog_change_record(
            actor=actor,
            action="product.image_updated",
            object_type="product",
            object_id=locked.product_id,
            before=before,
            after=image_snapshot(locked),
            products=[locked.product_id] if locked.status == ProductImage.Status.READY else [],
        )
    return locked


def image_delete(*, actor: Actor, image: ProductImage) -> None:
    """Delete an image; its original and thumbnail are removed from storage after commit."""
    with transaction.atomic():
        # Locked first, so a confirm racing this delete is either counted and released, or neither.
        locked = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None:
            return
        before = image_snapshot(locked)
        locked.delete()
        if locked.status == ProductImage.Status.READY:
            usage_release(metric=Metric.STORAGE_BYTES, amount=locked.size or 0)
        catalog_change_record(
            actor=actor,
            action="product.image_deleted",
            object_type="product",
            object_id=locked.product_id,
            before=before,
            products=[locked.product_id] if locked.status == ProductImage.Status.READY else [],
        )
        storage.objects_delete_on_commit(
            [locked.key, *locked.derived_keys(), storage.upload_key_for(locked.key)]
        )


# --- Thumbnails and widths (run by a worker) ------------------------------------------


def rendition_widths(width: int) -> list[int]:
    """
    The widths an image `width` pixels wide is stored at: each of RENDITION_WIDTHS
    below its own, then its own width, or the widest of them (never enlarged).
    """
    widest = RENDITION_WIDTHS[-1]
    return [w for w in RENDITION_WIDTHS if w < min(width, widest)] + [min(width, widest)]


def rendition_key_for(key: str, width: int) -> str:
    """`.../products/7/abc.jpg` → `.../products/7/thumbnails/abc-640w.webp` (a retry overwrites)."""
    return thumbnail_key_for(key).removesuffix(".webp") + f"-{width}w.webp"


def _decoded(data: bytes, *, draft: tuple[int, int]) -> Image.Image:
    """The image `data` holds, upright, as RGB(A); ImageRefused unless it is an accepted image."""
    if len(data) > settings.IMAGE_MAX_BYTES:
        raise ImageRefused("The file is larger than images may be.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                probe.verify()  # checks the whole file's structure, without decoding pixels
            if PILLOW_FORMATS.get(image_format or "") not in allowed_content_types():
                raise ImageRefused(f"{image_format or 'This format'} is not an accepted image type.")
            with Image.open(io.BytesIO(data)) as picture:
                if picture.width * picture.height > MAX_PIXELS:
                    raise ImageRefused(f"The image has more than {MAX_PIXELS} pixels.")
                picture.draft("RGB", draft)  # JPEG: decode at a smaller scale, still at least `draft`
                upright = ImageOps.exif_transpose(picture)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                return upright.convert("RGBA" if has_alpha else "RGB")
    except ImageRefused:
        raise
    except Exception as exc:  # whatever Pillow raises on bytes it cannot read: not an image we keep
        raise ImageRefused(f"The file is not a readable image ({exc.__class__.__name__}).") from None


def _webp(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=80)
    return out.getvalue()


def thumbnail_render(data: bytes, *, box: tuple[int, int] = THUMBNAIL_BOX) -> bytes:
    """Return a WebP thumbnail within `box`; raise ImageRefused unless `data` is an accepted image."""
    picture = _decoded(data, draft=(box[0] * 2, box[1] * 2))
    picture.thumbnail(box)
    return _webp(picture)


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


def renditions_render(data: bytes) -> tuple[bytes, list[Rendition]]:
    """
    Return the thumbnail and the image at each of its rendition_widths (WebP,
    narrowest first, aspect ratio kept), from one decoding of `data`.
    """
    widest = RENDITION_WIDTHS[-1]
    picture = _decoded(data, draft=(widest, widest))
    renditions = []
    source = picture
    # Widest first, each made from the one before: halving steps keep Lanczos sharp and cheap.
    for width in reversed(rendition_widths(picture.width)):
        height = max(1, round(picture.height * width / picture.width))
        source = (
            source
            if source.size == (width, height)
            else source.resize((width, height), Image.Resampling.LANCZOS)
        )
        renditions.append(Rendition(width, height, _webp(source)))
    thumbnail = picture.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX)
    return _webp(thumbnail), renditions[::-1]


def image_thumbnail_make(*, image_id: int) -> ProductImage | None:
    """
    Verify a ready image's bytes and store its thumbnail and widths; delete the
    image if they are not an image. An image with both is left alone, so this
    also gives images made before the widths existed their widths (`images_rethumbnail`).
    """
    image = ProductImage.objects.filter(pk=image_id, status=ProductImage.Status.READY).first()
    if image is None or (image.thumbnail_key and image.renditions):
        return image  # deleted, never confirmed, or done already
    try:
        thumbnail, renditions = renditions_render(
            storage.object_read(image.key, max_bytes=settings.IMAGE_MAX_BYTES)
        )
    except ImageRefused as exc:
        _image_refuse(image, reason=exc.detail)
        return None
    except FileNotFoundError:
        _image_refuse(image, reason="The uploaded file is no longer in storage.")
        return None
    thumbnail_key = thumbnail_key_for(image.key)
    storage.object_write(thumbnail_key, thumbnail, content_type=THUMBNAIL_CONTENT_TYPE)
    stored: list[dict[str, Any]] = []
    for rendition in renditions:
        key = rendition_key_for(image.key, rendition.width)
        storage.object_write(key, rendition.data, content_type=THUMBNAIL_CONTENT_TYPE)
        stored.append({"key": key, "width": rendition.width, "height": rendition.height})
    with transaction.atomic():
        locked = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if locked is None:  # deleted while we worked: its delete could not know these objects
            storage.objects_delete_on_commit([thumbnail_key, *(str(item["key"]) for item in stored)])
            return None
        locked.thumbnail_key = thumbnail_key
        locked.renditions = stored
        locked.save(update_fields=["thumbnail_key", "renditions"])
        # The product's storefront rendering shows these URLs (and bumps the cache).
        search_documents_refresh([locked.product_id])
    return locked


def images_rethumbnail(*, inline: bool = False) -> int:
    """Make (or queue) the widths of the current shop's ready images that lack them; return how many."""
    ids = list(
        ProductImage.objects.filter(status=ProductImage.Status.READY, renditions=[])
        .order_by("id")
        .values_list("id", flat=True)
    )
    for image_id in ids:
        if inline:
            image_thumbnail_make(image_id=image_id)
        else:
            _thumbnail_queue(image_id)
    return len(ids)


def _image_refuse(image: ProductImage, *, reason: str) -> None:
    with transaction.atomic():
        deleted, _ = ProductImage.objects.filter(pk=image.pk).delete()
        if deleted:
            catalog_change_record(
                actor=THUMBNAILER,
                action="product.image_refused",
                object_type="product",
                object_id=image.product_id,
                before={**image_snapshot(image), "reason": reason},
                products=[image.product_id],
            )
        storage.objects_delete_on_commit([image.key, *image.derived_keys()])
