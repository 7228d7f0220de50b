"""
Search documents: the denormalised row per active product that the storefront
lists, filters, sorts, facets and searches, with the product's storefront JSON
rendered beside it (catalog.rendering). Kept up to date by a worker from
product events; `manage.py reindex` rebuilds them.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from catalog.cache import storefront_cache_bump, storefront_pages_changed_on_commit
from catalog.models import Product, SearchDocument
from catalog.rendering import storefront_renderings_write
from tenants.schemas import current_schema

# 'simple': shops write in many languages, so no language's stemming is imposed.
SEARCH_CONFIG = "simple"

# One statement builds (or replaces) a product's document from its rows: title and
# SKUs weigh most, attribute values next, the description least. The refresh time is
# a parameter, not now(): Citus 13.2 fails an INSERT ... SELECT into a distributed
# schema whose select list calls a stable function.
_REFRESH_SQL = f"""
INSERT INTO catalog_searchdocument
    (product_id, title, category_id, category_path, min_price, max_price, in_stock,
     product_created_at, search_vector, refreshed_at)
SELECT p.id, p.title, p.category_id, COALESCE(c.path, ''), v.min_price, v.max_price, v.in_stock,
       p.created_at,
       setweight(to_tsvector('{SEARCH_CONFIG}', p.title || ' ' || v.skus), 'A')
       || setweight(to_tsvector('{SEARCH_CONFIG}', COALESCE(a.attribute_text, '')), 'B')
       || setweight(to_tsvector('{SEARCH_CONFIG}', p.description), 'C'),
       %(refreshed_at)s
FROM catalog_product p
LEFT JOIN catalog_category c ON c.id = p.category_id
JOIN LATERAL (
    SELECT min(price) AS min_price, max(price) AS max_price, bool_or(stock > 0) AS in_stock,
           string_agg(sku, ' ') AS skus
    FROM catalog_variant WHERE product_id = p.id
) v ON v.min_price IS NOT NULL
LEFT JOIN LATERAL (
    SELECT string_agg(value, ' ') AS attribute_text
    FROM jsonb_each_text(CASE WHEN jsonb_typeof(p.attributes) = 'object' THEN p.attributes ELSE '{{}}' END)
) a ON true
WHERE p.id = ANY(%(product_ids)s) AND p.status = 'active'
ON CONFLICT (product_id) DO UPDATE SET
    title = EXCLUDED.title, category_id = EXCLUDED.category_id, category_path = EXCLUDED.category_path,
    min_price = EXCLUDED.min_price, max_price = EXCLUDED.max_price, in_stock = EXCLUDED.in_stock,
    product_created_at = EXCLUDED.product_created_at, search_vector = EXCLUDED.search_vector,
    refreshed_at = EXCLUDED.refreshed_at
"""


def _refresh_params(product_ids: list[int]) -> dict[str, Any]:
    return {"product_ids": product_ids, "refreshed_at": timezone.now()}


def search_documents_refresh(product_ids: list[int]) -> None:
    """Rebuild the documents of these products (dropping those no longer active or gone)."""
    if not product_ids:
        return
    with transaction.atomic():
        SearchDocument.objects.filter(product_id__in=product_ids).exclude(
            product__status=Product.Status.ACTIVE
        ).delete()
        with connection.cursor() as cursor:
            cursor.execute(_REFRESH_SQL, _refresh_params(product_ids))
        storefront_renderings_write(product_ids)
        # The renderings feed the products' own pages, the documents the lists.
        storefront_pages_changed_on_commit(
            Product.objects.filter(pk__in=product_ids).values_list("slug", flat=True)
        )


def search_documents_rebuild(*, batch_size: int = 1000) -> int:
    """Rebuild every document of the current shop; return how many products were indexed."""
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        ids = list(Product.objects.filter(status=Product.Status.ACTIVE).values_list("id", flat=True))
        for start in range(0, len(ids), batch_size):
            with connection.cursor() as cursor:
                cursor.execute(_REFRESH_SQL, _refresh_params(ids[start : start + batch_size]))
            storefront_renderings_write(ids[start : start + batch_size])
        # Every product page was rendered again.
        schema = current_schema()
        transaction.on_commit(lambda: storefront_cache_bump(schema))
    return len(ids)
