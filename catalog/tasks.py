"""Catalog background work. Tasks carry their shop's schema (config/celery.py) and call a service."""

from celery import shared_task

from catalog import bulk, images, rendering


@shared_task(name="catalog.image_thumbnail_make", ignore_result=True, acks_late=True)
def image_thumbnail_make(image_id: int) -> None:
    """Verify an uploaded image and make its thumbnail (idempotent: a done image is left alone)."""
    images.image_thumbnail_make(image_id=image_id)


@shared_task(name="catalog.storefront_renderings_renew", ignore_result=True, acks_late=True)
def storefront_renderings_renew() -> None:
    """Re-render the shop's stale storefront renderings (a currency change, new URL settings, old URLs)."""
    rendering.storefront_renderings_renew()


@shared_task(name="catalog.product_import_run", ignore_result=True, acks_late=True)
def product_import_run(import_id: str) -> None:
    """Check a product CSV file and (unless a dry run or refused) write it all (idempotent once finished)."""
    bulk.product_import_run(import_id=import_id)


@shared_task(name="catalog.product_export_run", ignore_result=True, acks_late=True)
def product_export_run(export_id: str) -> None:
    """Write the shop's products as a CSV file to object storage (idempotent once done)."""
    bulk.product_export_run(export_id=export_id)
