"""Catalog background work. Tasks carry their shop's schema (config/celery.py) and call a service."""

from celery import shared_task

from catalog import images, rendering


@shared_task(name="catalog.image_thumbnail_make", ignore_result=True, acks_late=True)
def image_thumbnail_make(image_id: int) -> None:
    """Verify an uploaded image and make its thumbnail (idempotent: a done image is left alone)."""
    images.image_thumbnail_make(image_id=image_id)


@shared_task(name="catalog.storefront_renderings_renew", ignore_result=True, acks_late=True)
def storefront_renderings_renew() -> None:
    """Re-render the shop's stale storefront renderings (a currency change, new URL settings, old URLs)."""
    rendering.storefront_renderings_renew()
