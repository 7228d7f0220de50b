"""
The worker side of a shop's lifecycle: writing an export, and removing a
deleted shop with everything namespaced by its schema.

Exports are generic: every model of the shop apps (TENANT_APPS, in their
dependency order) is written with Django's `jsonl` serializer, one line per row
(`{"model": "catalog.product", "pk": 1, "fields": {...}}`), so the file reads
back with `django.core.serializers.deserialize("jsonl", ...)`. Fields named
`*secret` or `*_hash` (webhook signing secrets, the shopper's order-token hash)
are never written. tenants stays ignorant of catalog and orders.
"""

from __future__ import annotations

import io
import logging
import tempfile

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.db import connection, models, transaction
from django.utils import timezone

from tenants import storage
from tenants.idempotency.models import IdempotencyRecord
from tenants.keys import redis_client, storage_key
from tenants.models import Shop, ShopExport
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_schema

logger = logging.getLogger(__name__)

EXPORT_CONTENT_TYPE = "application/jsonl"
_CHUNK_ROWS = 2000


def export_key(export: ShopExport) -> str:
    return storage_key("exports", f"{export.pk}.jsonl", schema=export.schema_name)


def export_filename(export: ShopExport) -> str:
    return f"{export.schema_name}-{export.created_at:%Y%m%d-%H%M%S}.jsonl"


def shop_models() -> list[type[models.Model]]:
    """The models of a shop's schema that an export writes, app by app in TENANT_APPS order."""
    found: list[type[models.Model]] = []
    for config in apps.get_app_configs():
        if config.name in settings.TENANT_APPS:
            found.extend(model for model in config.get_models() if not model._meta.proxy and _exported(model))
    order = {name: index for index, name in enumerate(settings.TENANT_APPS)}
    return sorted(found, key=lambda model: order[apps.get_app_config(model._meta.app_label).name])


def _exported(model: type[models.Model]) -> bool:
    """
    Rows found by the hash of a shopper's secret (carts) are the shoppers' scratch
    state, not the shop's records, and their key is such a hash: not exported.
    """
    return not model._meta.pk.name.endswith("_hash")


def _exported_fields(model: type[models.Model]) -> list[str]:
    names = [field.name for field in model._meta.local_fields if not field.primary_key]
    names += [field.name for field in model._meta.local_many_to_many]
    return [name for name in names if not (name.endswith("secret") or name.endswith("_hash"))]


def export_run(*, export_id: str) -> ShopExport:
    """Write the export's file and record its progress table by table (idempotent once done)."""
    use_public()
    export = ShopExport.objects.get(pk=export_id)
    if export.status == ShopExport.Status.DONE:
        return export
    tables = shop_models()
    ShopExport.objects.filter(pk=export.pk).update(
        status=ShopExport.Status.RUNNING,
        started_at=timezone.now(),
        tables_total=len(tables),
        tables_done=0,
        rows_written=0,
        error="",
    )
    rows = 0
    try:
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n", write_through=True)
            for done, model in enumerate(tables, start=1):
                use_schema(export.schema_name)
                queryset = model._default_manager.order_by("pk")
                count = queryset.count()
                serializers.serialize(
                    "jsonl",
                    queryset.iterator(chunk_size=_CHUNK_ROWS),
                    stream=text,
                    fields=_exported_fields(model),
                )
                rows += count
                use_public()
                ShopExport.objects.filter(pk=export.pk).update(tables_done=done, rows_written=rows)
            text.flush()
            spool.seek(0)
            data = spool.read()
            text.detach()
        key = export_key(export)
        storage.object_write(key, data, content_type=EXPORT_CONTENT_TYPE)
    except Exception as exc:
        use_public()
        ShopExport.objects.filter(pk=export.pk).update(
            status=ShopExport.Status.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        logger.exception("Export %s of %s failed", export.pk, export.schema_name)
        raise
    use_public()
    ShopExport.objects.filter(pk=export.pk).update(
        status=ShopExport.Status.DONE, key=key, size=len(data), finished_at=timezone.now()
    )
    export.refresh_from_db()
    logger.info("Exported %s rows of %s to %s", rows, export.schema_name, key)
    return export


def redis_keys_delete(schema: str) -> int:
    """Delete every Redis key of a shop (cache, carts, rate-limit and usage counters): `{schema}:*`."""
    client = redis_client()
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{schema}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(client.delete(*batch))
            batch = []
    if batch:
        deleted += int(client.delete(*batch))
    return deleted


def shop_purge(*, export_id: str) -> None:
    """
    Finish a shop's deletion: export it first (a failed export stops here, shop
    intact but unreachable, and the task is retried), then drop its schema (its
    outbox, idempotency records and order counts with it), its public rows (shop,
    domains, memberships, API keys, and idempotency records or outbox events
    written there before those moved into shop schemas), its Redis keys and its
    files (all but the final export).
    Each step can run again, so a worker killed half-way loses nothing.
    """
    export = export_run(export_id=export_id)
    schema = export.schema_name
    with transaction.atomic():
        if export.shop_id is not None:
            shop = Shop.objects.select_for_update().filter(pk=export.shop_id).first()
            if shop is not None and shop.status != Shop.Status.DELETING:
                raise RuntimeError(f"Shop {shop.slug} is not being deleted.")
        with connection.cursor() as cursor:
            # Deferred foreign-key checks still pending in this transaction would block the drop.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(schema)} CASCADE")
        IdempotencyRecord.objects.filter(schema_name=schema).delete()
        OutboxEvent.objects.filter(schema_name=schema).delete()
        if export.shop_id is not None:
            Shop.objects.filter(pk=export.shop_id).delete()  # domains, memberships, API keys cascade
    keys = redis_keys_delete(schema)
    files = storage.objects_delete_under(storage_key(schema=schema), keep=[export.key])
    logger.info(
        "Deleted shop schema %s: %s Redis keys, %s files; export %s kept", schema, keys, files, export.pk
    )
