"""
Products rendered for the storefront at write time. The worker that refreshes a
product's search document also stores the product's storefront JSON in it, so a
storefront page is one SQL statement that hands Python finished bytes (see
selectors.storefront_page_rendered). This is the fast form of
`StorefrontProductOutput`, which stays the contract: tests hold the two equal,
key for key and in order.

A rendering carries a key naming what it assumed besides the product's own rows:
the shop's currency, how object URLs are built, and this module's version. Reads
use a rendering only when its key is the current one (and, where object URLs are
presigned, while those URLs are young); otherwise they take the plain path and
have the shop's stale renderings redone by a worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from catalog.attributes import product_attributes_shown
from catalog.models import Product, ProductImage, SearchDocument
from tenants.keys import redis_client, redis_key
from tenants.models import Shop
from tenants.money import Money
from tenants.schemas import current_schema
from tenants.storage import object_url

# Bump when the storefront representation of a product changes shape: every
# rendering then counts as stale until re-rendered.
RENDERING_VERSION = 2


def _urls_fingerprint() -> str:
    parts = (
        settings.STORAGE,
        settings.MEDIA_URL,
        settings.AWS_STORAGE_BUCKET_NAME,
        settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_S3_CUSTOM_DOMAIN,
        settings.AWS_QUERYSTRING_AUTH,
    )
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def rendering_key(currency: str) -> str:
    """The key of a rendering made now for a shop selling in `currency`."""
    return f"{RENDERING_VERSION}:{currency}:{_urls_fingerprint()}"


def rendering_max_age() -> int | None:
    """Seconds a rendering stays usable: presigned image URLs expire, plain ones do not."""
    if settings.STORAGE == "s3" and settings.AWS_QUERYSTRING_AUTH:
        return int(settings.AWS_QUERYSTRING_EXPIRE) // 2
    return None


def _money(amount: Any, currency: str) -> dict[str, str] | None:
    return None if amount is None else Money(amount, currency).as_json()


def renditions_json(renditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An image's stored widths as every API shows them: `{url, width, height}`, narrowest first."""
    return [
        {"url": object_url(item["key"]), "width": item["width"], "height": item["height"]}
        for item in renditions
    ]


def product_storefront_render(product: Product, currency: str) -> dict[str, Any]:
    """Render a product (variants and ready images prefetched) as StorefrontProductOutput does."""
    category = product.category
    return {
        "id": product.pk,
        "title": str(product.title),
        "slug": str(product.slug),
        "description": str(product.description),
        "category": None
        if category is None
        else {"id": category.pk, "name": str(category.name), "slug": str(category.slug)},
        "attributes": {str(key): value for key, value in product.attributes.items()},
        "vendor": str(product.vendor),
        "tags": [str(tag) for tag in product.tags],
        "attributes_shown": product_attributes_shown(product),
        "variants": [
            {
                "id": variant.pk,
                "sku": str(variant.sku),
                "title": str(variant.title),
                "options": {
                    str(key): None if value is None else str(value) for key, value in variant.options.items()
                },
                "price": _money(variant.price, currency),
                "compare_at_price": _money(variant.compare_at_price, currency),
                "in_stock": variant.stock > 0,
            }
            for variant in product.variants.all()
        ],
        "images": [
            {
                "id": image.pk,
                "url": object_url(image.key) if image.status == ProductImage.Status.READY else None,
                "thumbnail_url": object_url(image.thumbnail_key) if image.thumbnail_key else None,
                "renditions": renditions_json(image.renditions),
                "alt": str(image.alt),
                "position": image.position,
                "status": str(image.status),
            }
            for image in product.images.all()
        ],
    }


def _shop_currency() -> str:
    # Read, not taken from the connection's tenant: a worker keeps Shop objects for a while,
    # and a rendering must follow a currency change made a moment ago.
    currency = Shop.objects.filter(schema_name=current_schema()).values_list("currency", flat=True).first()
    return str(currency or "USD")


_WRITE_SQL = """
UPDATE catalog_searchdocument d SET storefront_json = r.body, rendering_key = %s
FROM unnest(%s::bigint[], %s::text[]) AS r(product_id, body)
WHERE d.product_id = r.product_id
"""


def storefront_renderings_write(product_ids: list[int]) -> None:
    """Render these products into their search documents (those without a document are skipped)."""
    # Imported here: selectors imports search (SEARCH_CONFIG), which imports this module.
    from catalog.selectors import storefront_products_by_ids

    if not product_ids:
        return
    currency = _shop_currency()
    products = storefront_products_by_ids(product_ids)
    ids = sorted(products)
    bodies = [
        json.dumps(
            product_storefront_render(products[pk], currency), ensure_ascii=False, separators=(",", ":")
        )
        for pk in ids
    ]
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, [rendering_key(currency), ids, bodies])


def storefront_renderings_renew(*, batch_size: int = 500) -> int:
    """Re-render the current shop's stale renderings (other currency, settings or version; old URLs)."""
    currency = _shop_currency()
    stale = ~Q(rendering_key=rendering_key(currency))
    max_age = rendering_max_age()
    if max_age is not None:
        stale |= Q(refreshed_at__lt=timezone.now() - timedelta(seconds=max_age))
    ids = list(SearchDocument.objects.filter(stale).values_list("product_id", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        storefront_renderings_write(batch)
        if max_age is not None:  # the URLs in it are new again
            SearchDocument.objects.filter(product_id__in=batch).update(refreshed_at=Now())
    with contextlib.suppress(redis.RedisError):  # the next stale page may ask again
        redis_client().delete(_renew_flag_key())
    return len(ids)


def _renew_flag_key() -> str:
    return redis_key(settings.STOREFRONT_CACHE_NAMESPACE, "renderings-renew")


def storefront_renderings_renew_soon() -> None:
    """Ask a worker to renew this shop's stale renderings (once at a time; after a minute, again)."""
    from catalog.tasks import storefront_renderings_renew as task

    with contextlib.suppress(redis.RedisError):
        if redis_client().set(_renew_flag_key(), "1", nx=True, ex=60):
            task.delay()


def shop_renderings_follow(*, shop: Shop, changed: Sequence[str]) -> None:
    """`shop_updated` hook: a new currency re-renders every price of the shop (by a worker, after commit)."""
    if "currency" not in changed:
        return
    from catalog.tasks import storefront_renderings_renew as task

    schema = shop.schema_name
    transaction.on_commit(lambda: task.apply_async(headers={"_schema_name": schema}))
