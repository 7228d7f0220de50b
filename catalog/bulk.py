"""
Bulk work on the catalog: product CSV imports and CSV exports (run by a worker,
with progress), and bulk edits of selected products.

An import is checked whole before anything is written (every row error is
reported, up to IMPORT_MAX_ERRORS); its images are then downloaded
(catalog.image_fetch), and the file is written in one transaction, a chunk of
products at a time (catalog.import_write: each product still gets its audit
entry, events, price history and stock ledger rows; the plan's product slots are
taken for the whole file at once); any refusal, a failed download included,
leaves the shop as it was. A dry run stops after the check (image URLs are
checked for their form only).

Progress of a running import or export lives in Redis (`{schema}:bulk:{id}`),
since the import's writes are one transaction nobody else sees into, and is
pushed to the shop's live stream (tenants.live).
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from redis.exceptions import RedisError

from billing.errors import LimitReached
from billing.limits import Metric
from billing.selectors import usage_allows
from billing.services import usage_take
from catalog import product_csv
from catalog.changes import catalog_change_record
from catalog.errors import BulkEditInvalid, CatalogNotFound, ImageRefused
from catalog.image_fetch import ImageCache
from catalog.import_write import (
    CHUNK_PRODUCTS,
    ImportCounts,
    PlanRefused,
    image_is_known,
    plans_chunk_write,
)
from catalog.inventory import inventory_adjust
from catalog.models import Category, CsvExport, Product, ProductImage, ProductImport, Variant
from catalog.product_csv import ProductPlan, RowError
from catalog.services import (
    UNSET,
    category_create,
    product_update,
    variant_update,
)
from tenants import storage
from tenants.audit.services import Actor
from tenants.conventions.csvfiles import CSV_CONTENT_TYPE, csv_read, csv_write
from tenants.errors import DomainError
from tenants.keys import redis_client, redis_key, storage_key
from tenants.live import EXPORT_PROGRESS, IMPORT_PROGRESS, live_publish
from tenants.money import CURRENCY_EXPONENTS
from tenants.schemas import current_currency

logger = logging.getLogger(__name__)

IMPORT_MAX_ERRORS = 1000
# A download that fails fails the file; past this many, the rest are not tried.
IMPORT_MAX_DOWNLOAD_ERRORS = 20
PROGRESS_EVERY_ROWS = 250
PROGRESS_SECONDS = 24 * 3600
BULK_EDIT_MAX_PRODUCTS = 500


def actor_fields(actor: Actor) -> dict[str, Any]:
    return {"type": actor.type, "id": actor.id, "label": actor.label}


def _actor(fields: dict[str, Any]) -> Actor:
    return Actor(
        type=str(fields.get("type", "system")), id=fields.get("id"), label=str(fields.get("label", ""))
    )


# --- Progress --------------------------------------------------------------------


def _progress_key(job_id: uuid.UUID | str) -> str:
    return redis_key("bulk", str(job_id))


def progress_report(*, job_id: uuid.UUID | str, kind: str, phase: str, done: int, total: int) -> None:
    """Record a running job's progress and push it to the shop's live stream; an outage loses only that."""
    progress = {"phase": phase, "done": done, "total": total}
    try:
        redis_client().set(_progress_key(job_id), json.dumps(progress), ex=PROGRESS_SECONDS)
    except RedisError:
        logger.warning("Redis is down: progress of %s not recorded", job_id)
    live_publish(type=kind, data={"id": str(job_id), **progress})


def progress_read(job_id: uuid.UUID | str) -> dict[str, Any] | None:
    try:
        raw = redis_client().get(_progress_key(job_id))
    except RedisError:
        return None
    return json.loads(raw) if raw else None


def job_progress(job: ProductImport | CsvExport) -> dict[str, Any]:
    """{phase, done, total, percent}: from Redis while it runs, from the row once it has finished."""
    if job.status in ("done", "failed"):
        return {"phase": job.status, "done": job.rows_done, "total": job.rows_total, "percent": 100}
    progress = progress_read(job.pk) or {"phase": job.status, "done": 0, "total": job.rows_total}
    total = int(progress["total"])
    percent = min(99, int(100 * int(progress["done"]) / total)) if total else 0
    return {**progress, "percent": percent}


# --- Imports ---------------------------------------------------------------------


def access_import_by_id(*, import_id: uuid.UUID) -> ProductImport:
    found = ProductImport.objects.filter(pk=import_id).first()
    if found is None:
        raise CatalogNotFound("This shop has no such import.")
    return found


def product_import_request(*, actor: Actor, filename: str, data: bytes, dry_run: bool) -> ProductImport:
    """
    Take a product CSV file: refuse it whole at once if it cannot be read (size,
    rows, encoding, header), else store it and queue its import; rows are the
    worker's to check.
    """
    rows = csv_read(
        data,
        max_bytes=settings.PRODUCT_IMPORT_MAX_BYTES,
        max_rows=settings.PRODUCT_IMPORT_MAX_ROWS,
        required=product_csv.REQUIRED,
    )
    job_id = uuid.uuid4()
    key = storage_key("imports", f"{job_id}.csv")
    storage.object_write(key, data, content_type=CSV_CONTENT_TYPE)
    with transaction.atomic():
        job = ProductImport.objects.create(
            id=job_id,
            dry_run=dry_run,
            filename=filename[:255],
            key=key,
            size=len(data),
            rows_total=len(rows),
            requested_by=actor_fields(actor),
        )
        transaction.on_commit(lambda: _task_queue("product_import_run", job_id))
    return job


def _task_queue(name: str, job_id: uuid.UUID) -> None:
    from catalog import tasks

    getattr(tasks, name).delay(str(job_id))


class _WriteRefused(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def product_import_run(*, import_id: str) -> ProductImport:
    """Check the file, then (unless a dry run, or a row is refused) write it all; idempotent once finished."""
    job = ProductImport.objects.get(pk=import_id)
    if job.status in (ProductImport.Status.DONE, ProductImport.Status.FAILED):
        return job
    ProductImport.objects.filter(pk=job.pk).update(
        status=ProductImport.Status.RUNNING, started_at=timezone.now()
    )
    progress_report(job_id=job.pk, kind=IMPORT_PROGRESS, phase="checking", done=0, total=job.rows_total)
    counts = ImportCounts()
    try:
        data = storage.object_read(job.key, max_bytes=settings.PRODUCT_IMPORT_MAX_BYTES)
        rows = csv_read(
            data,
            max_bytes=settings.PRODUCT_IMPORT_MAX_BYTES,
            max_rows=settings.PRODUCT_IMPORT_MAX_ROWS,
            required=product_csv.REQUIRED,
        )
        plans, errors = product_csv.plans_read(rows)
        existing = _existing_products([plan.handle for plan in plans])
        errors += _plans_check(plans, existing)
        progress_report(job_id=job.pk, kind=IMPORT_PROGRESS, phase="checked", done=len(rows), total=len(rows))
        if not errors:
            counts = _counts_planned(plans, existing)
            if not job.dry_run:
                with tempfile.TemporaryDirectory(prefix="storefleet-import-") as folder:
                    images = ImageCache(folder)
                    errors = _images_download(job, plans, existing, images)
                    if not errors:
                        counts = _plans_write(job, plans, existing, images, actor=_actor(job.requested_by))
    except _WriteRefused as refused:
        errors = [refused.error]
    except DomainError as refused:  # the file itself changed its mind (it was checked on upload)
        errors = [RowError(None, None, refused.detail)]
    except Exception:
        logger.exception("Import %s failed", job.pk)
        _import_finish(job, errors=[RowError(None, None, "The import failed; try again.")], counts=counts)
        raise
    return _import_finish(job, errors=errors, counts=counts)


def _import_finish(job: ProductImport, *, errors: list[RowError], counts: ImportCounts) -> ProductImport:
    errors = sorted(errors, key=lambda error: (error.line or 0, error.column or ""))
    status = ProductImport.Status.FAILED if errors else ProductImport.Status.DONE
    written = counts if not errors else ImportCounts()
    ProductImport.objects.filter(pk=job.pk).update(
        status=status,
        rows_done=job.rows_total,
        errors=[error.as_dict() for error in errors[:IMPORT_MAX_ERRORS]],
        finished_at=timezone.now(),
        **written.__dict__,
    )
    job.refresh_from_db()
    live_publish(
        type=IMPORT_PROGRESS,
        data={"id": str(job.pk), "phase": status, "done": job.rows_total, "total": job.rows_total},
    )
    return job


def _existing_products(handles: list[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for start in range(0, len(handles), 1000):
        products = Product.objects.filter(slug__in=handles[start : start + 1000]).prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("position", "id")), "images"
        )
        found.update((product.slug, product) for product in products)
    return found


def _category_index() -> dict[tuple[int | None, str], Category]:
    return {(category.parent_id, category.name.lower()): category for category in Category.objects.all()}


def _category_find(path: list[str], index: dict[tuple[int | None, str], Category]) -> Category | None:
    parent: Category | None = None
    for name in path:
        parent = index.get((parent.pk if parent else None, name.lower()))
        if parent is None:
            return None
    return parent


def _plans_check(plans: list[ProductPlan], existing: dict[str, Product]) -> list[RowError]:
    """What the rows ask that the shop refuses: others' SKUs, missing fields, attributes, the plan."""
    from catalog.attributes import attributes_check

    errors: list[RowError] = []
    skus = [variant.sku for plan in plans for variant in plan.variants]
    owners: dict[str, int] = {}
    for start in range(0, len(skus), 1000):
        owners.update(
            Variant.objects.filter(sku__in=skus[start : start + 1000]).values_list("sku", "product_id")
        )
    categories = _category_index()
    for plan in plans:
        product = existing.get(plan.handle)
        if product is None and not plan.title:
            errors.append(
                RowError(plan.line, product_csv.TITLE, "A new product needs a Title on its first row.")
            )
        if product is None and not plan.variants and not plan.refused:
            errors.append(RowError(plan.line, product_csv.SKU, "A new product needs at least one variant."))
        for variant in plan.variants:
            owner = owners.get(variant.sku)
            if owner is not None and (product is None or owner != product.pk):
                errors.append(
                    RowError(
                        variant.line, product_csv.SKU, f"{variant.sku!r} is a variant of another product."
                    )
                )
            if owner is None and variant.price is None:
                errors.append(RowError(variant.line, product_csv.PRICE, "A new variant needs a price."))
        images = len(product.images.all()) if product is not None else 0
        images += sum(1 for image in plan.images if product is None or not image_is_known(product, image.src))
        if images > settings.IMAGE_MAX_PER_PRODUCT:
            errors.append(
                RowError(
                    plan.line,
                    product_csv.IMAGE_SRC,
                    f"A product can have at most {settings.IMAGE_MAX_PER_PRODUCT} images.",
                )
            )
        category = (
            _category_find(plan.category_path, categories)
            if plan.category_path
            else (product.category if product else None)
        )
        if category is not None and (plan.attributes is not None or plan.category_path):
            try:
                attributes_check(
                    plan.attributes if plan.attributes is not None else product_attributes(product), category
                )
            except DomainError as refused:
                messages = [f"{path}: {', '.join(texts)}" for path, texts in (refused.errors or {}).items()]
                errors.append(
                    RowError(plan.line, product_csv.ATTRIBUTES, "; ".join(messages) or refused.detail)
                )
    new_products = sum(1 for plan in plans if plan.handle not in existing)
    if new_products:
        try:
            usage_allows(metric=Metric.PRODUCTS, amount=new_products)
        except LimitReached as refused:
            errors.append(
                RowError(None, product_csv.HANDLE, f"{new_products} new products: {refused.detail}")
            )
    return errors


def product_attributes(product: Product | None) -> dict[str, Any]:
    return dict(product.attributes) if product is not None else {}


def _counts_planned(plans: list[ProductPlan], existing: dict[str, Product]) -> ImportCounts:
    """What a write would do: products and variants to create and to update."""
    counts = ImportCounts()
    for plan in plans:
        product = existing.get(plan.handle)
        if product is None:
            counts.products_created += 1
            counts.variants_created += len(plan.variants)
            continue
        counts.products_updated += 1
        skus = {variant.sku for variant in product.variants.all()}
        for variant in plan.variants:
            if variant.sku in skus:
                counts.variants_updated += 1
            else:
                counts.variants_created += 1
    return counts


def _images_download(
    job: ProductImport, plans: list[ProductPlan], existing: dict[str, Product], images: ImageCache
) -> list[RowError]:
    """Download every image the file adds (before the write's transaction); a row error for each failure."""
    wanted = [
        image
        for plan in plans
        for image in plan.images
        if plan.handle not in existing or not image_is_known(existing[plan.handle], image.src)
    ]
    errors: list[RowError] = []
    for done, image in enumerate(wanted, start=1):
        try:
            images.fetch(image.src)
        except ImageRefused as refused:
            errors.append(RowError(image.line, product_csv.IMAGE_SRC, f"{image.src[:200]}: {refused.detail}"))
            if len(errors) >= IMPORT_MAX_DOWNLOAD_ERRORS:
                break
        if done % 10 == 0:
            progress_report(
                job_id=job.pk, kind=IMPORT_PROGRESS, phase="downloading", done=done, total=len(wanted)
            )
    return errors


def _plans_write(
    job: ProductImport,
    plans: list[ProductPlan],
    existing: dict[str, Product],
    images: ImageCache,
    *,
    actor: Actor,
) -> ImportCounts:
    counts = ImportCounts()
    done = 0
    stored_keys: list[str] = []
    try:
        with transaction.atomic():
            # The plan's product slots, for the whole file at once: taken one by one, the
            # same usage row would be updated thousands of times in one transaction, each
            # update walking past every version the ones before left (none can be pruned yet).
            new_products = sum(1 for plan in plans if plan.handle not in existing)
            if new_products:
                try:
                    usage_take(metric=Metric.PRODUCTS, amount=new_products)
                except LimitReached as refused:
                    raise _WriteRefused(RowError(None, product_csv.HANDLE, refused.detail)) from None
            index = _category_index()

            def category(path: list[str]) -> Category:
                return _category_ensure(path, index, actor=actor)

            for start in range(0, len(plans), CHUNK_PRODUCTS):
                chunk = plans[start : start + CHUNK_PRODUCTS]
                try:
                    plans_chunk_write(
                        chunk,
                        categories=category,
                        actor=actor,
                        counts=counts,
                        images=images,
                        stored_keys=stored_keys,
                    )
                except PlanRefused as refused:
                    raise _WriteRefused(_refusal_row(refused.refused, refused.line)) from None
                except IntegrityError:
                    # A SKU or handle taken by another writer since the check.
                    raise _WriteRefused(
                        RowError(chunk[0].line, None, "The catalog changed while importing; import again.")
                    ) from None
                done += sum(plan.lines for plan in chunk)
                progress_report(
                    job_id=job.pk, kind=IMPORT_PROGRESS, phase="writing", done=done, total=job.rows_total
                )
            catalog_change_record(
                actor=actor,
                action="products.imported",
                object_type="product_import",
                object_id=None,
                after={"import_id": str(job.pk), "filename": job.filename, **counts.__dict__},
            )
    except BaseException:
        # Rolled back: the images stored for it belong to nothing now.
        storage.objects_delete(stored_keys)
        raise
    return counts


def _refusal_row(refused: DomainError, line: int) -> RowError:
    detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in (refused.errors or {}).items())
    return RowError(line, None, detail or refused.detail)


def _category_ensure(
    path: list[str], index: dict[tuple[int | None, str], Category], *, actor: Actor
) -> Category:
    parent: Category | None = None
    for name in path:
        found = index.get((parent.pk if parent else None, name.lower()))
        if found is None:
            found = category_create(actor=actor, name=name, parent=parent)
            index[(found.parent_id, name.lower())] = found
        parent = found
    assert parent is not None
    return parent


# --- Exports ---------------------------------------------------------------------


def access_export_by_id(*, export_id: uuid.UUID, kind: str) -> CsvExport:
    found = CsvExport.objects.filter(pk=export_id, kind=kind).first()
    if found is None:
        raise CatalogNotFound("This shop has no such export.")
    return found


def csv_export_request(
    *, actor: Actor, kind: str, task: Callable[[str], Any], filters: dict[str, Any] | None = None
) -> CsvExport:
    """
    Queue a CSV export of the shop's products or orders: `task` (queued with the
    export's id once it commits) writes it with csv_export_write.
    """
    with transaction.atomic():
        export = CsvExport.objects.create(kind=kind, filters=filters or {}, requested_by=actor_fields(actor))
        transaction.on_commit(lambda: task(str(export.pk)))
    return export


def export_filename(export: CsvExport) -> str:
    return f"{export.kind}-{export.created_at:%Y%m%d-%H%M%S}.csv"


def export_download_url(export: CsvExport) -> str | None:
    if export.status != CsvExport.Status.DONE or not export.key:
        return None
    return storage.object_download_url(
        export.key, filename=export_filename(export), seconds=settings.EXPORT_LINK_SECONDS
    )


def csv_export_write(
    *, export_id: str, header: tuple[str, ...], total: int, rows: Iterable[list[object]]
) -> CsvExport:
    """Write an export's rows to object storage, reporting progress; idempotent once done."""
    export = CsvExport.objects.get(pk=export_id)
    if export.status == CsvExport.Status.DONE:
        return export
    CsvExport.objects.filter(pk=export.pk).update(status=CsvExport.Status.RUNNING, rows_total=total, error="")
    progress_report(job_id=export.pk, kind=EXPORT_PROGRESS, phase="writing", done=0, total=total)

    def counted() -> Iterable[list[object]]:
        for done, row in enumerate(rows, start=1):
            if done % PROGRESS_EVERY_ROWS == 0:
                progress_report(
                    job_id=export.pk, kind=EXPORT_PROGRESS, phase="writing", done=done, total=total
                )
            yield row

    try:
        data = csv_write(header, counted())
        key = storage_key("exports", f"{export.pk}.csv")
        storage.object_write(key, data, content_type=CSV_CONTENT_TYPE)
    except Exception as exc:
        CsvExport.objects.filter(pk=export.pk).update(
            status=CsvExport.Status.FAILED,
            error=f"{exc.__class__.__name__}"[:200],
            finished_at=timezone.now(),
        )
        logger.exception("Export %s failed", export.pk)
        raise
    CsvExport.objects.filter(pk=export.pk).update(
        status=CsvExport.Status.DONE, key=key, size=len(data), rows_done=total, finished_at=timezone.now()
    )
    export.refresh_from_db()
    live_publish(
        type=EXPORT_PROGRESS, data={"id": str(export.pk), "phase": "done", "done": total, "total": total}
    )
    return export


def product_rows_all() -> tuple[int, Iterable[list[object]]]:
    """Every product's CSV rows, oldest first, read a thousand products at a time."""
    products = Product.objects.select_related("category").order_by("id")
    total = Variant.objects.count()
    by_id = {category.pk: category for category in Category.objects.all()}

    def rows() -> Iterable[list[object]]:
        batch_size = 1000
        last = 0
        while True:
            batch = list(
                products.filter(id__gt=last).prefetch_related(
                    Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
                    Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
                )[:batch_size]
            )
            if not batch:
                return
            for product in batch:
                yield from product_csv.product_rows(product, by_id)
            last = batch[-1].pk

    return total, rows()


def product_export_run(*, export_id: str) -> CsvExport:
    total, rows = product_rows_all()
    return csv_export_write(export_id=export_id, header=product_csv.COLUMNS, total=total, rows=rows)


# --- Bulk edit -------------------------------------------------------------------


def products_bulk_edit(
    *,
    actor: Actor,
    product_ids: list[int],
    status: str | None = None,
    price: Decimal | None = None,
    price_change_percent: Decimal | None = None,
    stock: int | None = None,
    stock_delta: int | None = None,
) -> list[Product]:
    """
    Change the status of the selected products, and the price and stock of all
    their variants, in one transaction through the single-edit services (audit,
    events, price history, stock ledger): all of it, or (any refusal) none.
    """
    if not product_ids or len(product_ids) > BULK_EDIT_MAX_PRODUCTS:
        raise BulkEditInvalid(
            f"Select 1 to {BULK_EDIT_MAX_PRODUCTS} products.",
            errors={"products": ["Wrong number of products."]},
        )
    if price is not None and price_change_percent is not None:
        raise BulkEditInvalid(
            "Set the price or change it by a percentage, not both.", errors={"price": ["Not both."]}
        )
    if stock is not None and stock_delta is not None:
        raise BulkEditInvalid("Set the stock or change it, not both.", errors={"stock": ["Not both."]})
    if all(value is None for value in (status, price, price_change_percent, stock, stock_delta)):
        raise BulkEditInvalid("Nothing to change.", errors={"non_field_errors": ["Give a change."]})
    with transaction.atomic():
        products = list(
            Product.objects.filter(pk__in=set(product_ids))
            .select_for_update(of=("self",))
            .order_by("id")
            .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("id")))
        )
        missing = set(product_ids) - {product.pk for product in products}
        if missing:
            raise BulkEditInvalid(
                "Some selected products do not exist in this shop.",
                errors={"products": [f"Unknown product {pid}." for pid in sorted(missing)[:20]]},
            )
        for product in products:
            if status is not None and status != product.status:
                product_update(actor=actor, product=product, status=status)
            for variant in product.variants.all():
                new_price = _price_after(variant.price, price=price, percent=price_change_percent)
                if new_price is not None or stock is not None:
                    variant_update(
                        actor=actor,
                        variant=variant,
                        price=new_price if new_price is not None else UNSET,
                        stock=stock if stock is not None else UNSET,
                    )
                if stock_delta:
                    inventory_adjust(
                        actor=actor, variant=variant, delta=stock_delta, reason="correction", note="Bulk edit"
                    )
    return products


def _price_after(current: Decimal, *, price: Decimal | None, percent: Decimal | None) -> Decimal | None:
    if price is not None:
        return price
    if percent is None:
        return None
    minor_unit = Decimal(1).scaleb(-CURRENCY_EXPONENTS[current_currency()])
    changed = (current * (Decimal(100) + percent) / Decimal(100)).quantize(minor_unit, ROUND_HALF_EVEN)
    if changed < 0 or changed > product_csv.MAX_PRICE:
        raise BulkEditInvalid(
            f"A price of {current} changed by {percent}% is out of range.",
            errors={"price_change_percent": ["A price would leave the allowed range."]},
        )
    return changed
