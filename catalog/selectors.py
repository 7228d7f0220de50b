"""
Catalog reads, tuned once. Every query runs in the current shop's schema; the
`access_*` loaders are the only way the API fetches one object by id or slug.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from catalog.errors import CatalogNotFound
from catalog.models import (
    Category,
    InventoryAdjustment,
    Product,
    ProductImage,
    SearchDocument,
    Variant,
    price_field,
)
from catalog.search import SEARCH_CONFIG

# --- Admin -----------------------------------------------------------------------

ADMIN_PRODUCT_PREFETCH = (
    Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
    Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
)


# What `?ordering=` may name on the admin's product list, and the column each sorts by.
PRODUCT_ORDERINGS = {
    "title": "title",
    "price": "sort_price",  # the cheapest variant's
    "stock": "sort_stock",  # all variants' together
    "updated_at": "updated_at",
    "created_at": "created_at",
}


def _variants_of(aggregate: Any) -> Any:
    """One figure over a product's variants, 0 without any (a subquery: no join, so no duplicated rows)."""
    figure = (
        Variant.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(figure=aggregate)
        .values("figure")
    )
    return Coalesce(Subquery(figure), Value(0), output_field=aggregate.output_field)


def products_for_admin(
    *,
    status: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
    vendor: str | None = None,
    ordering: str = "-created_at",
) -> QuerySet[Product]:
    """The admin's product list in `ordering` (a PRODUCT_ORDERINGS name, `-` first: descending)."""
    products = Product.objects.select_related("category").prefetch_related(*ADMIN_PRODUCT_PREFETCH)
    name = ordering.lstrip("-")
    column = PRODUCT_ORDERINGS[name]
    if name == "price":
        products = products.annotate(sort_price=_variants_of(Min("price", output_field=price_field())))
    elif name == "stock":
        products = products.annotate(sort_stock=_variants_of(Sum("stock", output_field=BigIntegerField())))
    if status:
        products = products.filter(status=status)
    if tag:
        products = products.filter(tags__contains=[tag.strip()])  # `@>`: the tags' GIN index
    if vendor:
        products = products.filter(vendor=vendor.strip())
    if category_id is not None:
        products = products.filter(category_id=category_id)
    if q:
        products = products.filter(Q(title__icontains=q) | Q(variants__sku__iexact=q)).distinct()
    sign = "-" if ordering.startswith("-") else ""
    return products.order_by(f"{sign}{column}", f"{sign}id")


def access_product_by_id(*, product_id: int) -> Product:
    product = (
        Product.objects.select_related("category")
        .prefetch_related(*ADMIN_PRODUCT_PREFETCH)
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise CatalogNotFound("No product with that id in this shop.")
    return product


def access_variant_by_id(*, product_id: int, variant_id: int) -> Variant:
    variant = Variant.objects.filter(pk=variant_id, product_id=product_id).first()
    if variant is None:
        raise CatalogNotFound("No variant with that id on this product.")
    return variant


def access_variant_by_id_anywhere(*, variant_id: int) -> Variant:
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None:
        raise CatalogNotFound("No variant with that id in this shop.")
    return variant


def access_image_by_id(*, product_id: int, image_id: int) -> ProductImage:
    image = ProductImage.objects.filter(pk=image_id, product_id=product_id).first()
    if image is None:
        raise CatalogNotFound("No image with that id on this product.")
    return image


def image_file_served(*, key: str) -> bool:
    """Whether `key` (`tenants/{schema}/products/{id}/...`) is a ready image's original or derived file."""
    parts = key.split("/")
    if len(parts) < 5 or parts[2] != "products" or not parts[3].isdigit():
        return False
    images = ProductImage.objects.filter(product_id=int(parts[3]), status=ProductImage.Status.READY)
    return images.filter(Q(key=key) | Q(thumbnail_key=key) | Q(renditions__contains=[{"key": key}])).exists()


def access_category_by_id(*, category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise CatalogNotFound("No category with that id in this shop.")
    return category


def categories_for_admin() -> QuerySet[Category]:
    return Category.objects.order_by("path", "position", "id")


def inventory_for_admin(*, low_stock: bool = False) -> QuerySet[Variant]:
    variants = Variant.objects.select_related("product").only(
        "id", "sku", "title", "stock", "low_stock_threshold", "product__id", "product__title"
    )
    if low_stock:
        variants = variants.filter(stock__lte=F("low_stock_threshold"))
    return variants.order_by("id")


def inventory_adjustments(*, variant_id: int | None = None) -> QuerySet[InventoryAdjustment]:
    adjustments = InventoryAdjustment.objects.select_related("variant").only(
        "id",
        "delta",
        "stock_after",
        "reason",
        "note",
        "actor_label",
        "created_at",
        "variant__id",
        "variant__sku",
    )
    if variant_id is not None:
        adjustments = adjustments.filter(variant_id=variant_id)
    return adjustments.order_by("-id")


# --- Storefront ------------------------------------------------------------------


def categories_tree() -> list[dict[str, Any]]:
    """Return the category tree as nested dicts, siblings in position order."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for category in Category.objects.order_by("path", "position", "id").only(
        "id", "name", "slug", "parent_id", "path"
    ):
        node: dict[str, Any] = {
            "id": category.pk,
            "name": category.name,
            "slug": category.slug,
            "children": [],
        }
        nodes[category.pk] = node
        parent = nodes.get(category.parent_id) if category.parent_id else None
        (parent["children"] if parent else roots).append(node)
    for node in nodes.values():
        node["children"].sort(key=lambda child: child["name"].lower())
    return roots


@dataclass(frozen=True)
class StorefrontFilter:
    q: str | None = None
    category: Category | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None


# Price bands for the facet: [lower, upper) in the shop's currency; the last is open.
PRICE_BANDS: tuple[tuple[Decimal, Decimal | None], ...] = (
    (Decimal(0), Decimal(10)),
    (Decimal(10), Decimal(25)),
    (Decimal(25), Decimal(50)),
    (Decimal(50), Decimal(100)),
    (Decimal(100), Decimal(250)),
    (Decimal(250), None),
)


def storefront_documents(filters: StorefrontFilter) -> QuerySet[SearchDocument]:
    """The search documents matching the filter (active products only, by construction)."""
    documents = SearchDocument.objects.all()
    if filters.q:
        query = SearchQuery(filters.q, search_type="websearch", config=SEARCH_CONFIG)
        documents = documents.filter(search_vector=query).annotate(
            relevance=SearchRank(F("search_vector"), query)
        )
    if filters.category is not None:
        documents = documents.filter(category_path__startswith=filters.category.path)
    if filters.min_price is not None:
        documents = documents.filter(max_price__gte=filters.min_price)
    if filters.max_price is not None:
        documents = documents.filter(min_price__lte=filters.max_price)
    if filters.in_stock:
        documents = documents.filter(in_stock=True)
    return documents


def storefront_facets(documents: QuerySet[SearchDocument]) -> dict[str, Any]:
    """Category counts, price bands and the in-stock count for the current filter, in three queries."""
    plain = documents.order_by()
    aggregate = plain.aggregate(
        total=Count("pk"),
        in_stock=Count("pk", filter=Q(in_stock=True)),
        **{
            f"band_{i}": Count(
                "pk", filter=Q(min_price__gte=lower) & (Q(min_price__lt=upper) if upper is not None else Q())
            )
            for i, (lower, upper) in enumerate(PRICE_BANDS)
        },
    )
    category_counts = {
        row["category_id"]: row["count"]
        for row in plain.filter(category_id__isnull=False).values("category_id").annotate(count=Count("pk"))
    }
    categories = Category.objects.filter(pk__in=category_counts).only("id", "name", "slug").order_by("path")
    return {
        "total": aggregate["total"],
        "in_stock": aggregate["in_stock"],
        "categories": [
            {"id": c.pk, "slug": c.slug, "name": c.name, "count": category_counts[c.pk]} for c in categories
        ],
        "price_bands": [
            {
                "min": str(lower),
                "max": str(upper) if upper is not None else None,
                "count": aggregate[f"band_{i}"],
            }
            for i, (lower, upper) in enumerate(PRICE_BANDS)
        ],
    }


STOREFRONT_PRODUCT_PREFETCH = (
    Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
    Prefetch(
        "images",
        queryset=ProductImage.objects.filter(status=ProductImage.Status.READY).order_by("position", "id"),
    ),
)


def storefront_products_by_ids(product_ids: list[int]) -> dict[int, Product]:
    """Load a page of products with variants and images (three queries)."""
    products = (
        Product.objects.filter(pk__in=product_ids, status=Product.Status.ACTIVE)
        .select_related("category")
        .prefetch_related(*STOREFRONT_PRODUCT_PREFETCH)
    )
    return {product.pk: product for product in products}


def access_storefront_product_by_slug(*, slug: str) -> Product:
    product = (
        Product.objects.filter(slug=slug, status=Product.Status.ACTIVE)
        .select_related("category")
        .prefetch_related(*STOREFRONT_PRODUCT_PREFETCH)
        .first()
    )
    if product is None:
        raise CatalogNotFound("No such product in this shop.")
    return product


def access_category_by_slug(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise CatalogNotFound(
            f"No category {slug!r} in this shop.", errors={"category": ["Unknown category."]}
        )
    return category


# --- Storefront, fast forms --------------------------------------------------------
#
# The same answers as above, read in one statement each from the renderings the
# worker stores beside the search documents (catalog.rendering). A view uses them
# when every product on the page has a current rendering and falls back to the
# plain reads otherwise; tests hold both equal.

# Ordering fields the storefront list sorts on, and how a cursor's position is typed.
_PAGE_COLUMNS = {
    "min_price": "numeric",
    "product_created_at": "timestamptz",
    "relevance": "float8",
    "product_id": "bigint",
}


def _bands_sql() -> tuple[str, str]:
    counts = []
    facets = []
    for i, (lower, upper) in enumerate(PRICE_BANDS):
        bound = f"min_price >= {lower}" + (f" AND min_price < {upper}" if upper is not None else "")
        counts.append(f"count(*) FILTER (WHERE {bound}) AS band_{i}")
        high = f"'{upper}'" if upper is not None else "NULL"
        facets.append(f"json_build_object('min', '{lower}', 'max', {high}, 'count', c.band_{i})")
    return ",\n           ".join(counts), ", ".join(facets)


_BAND_COUNTS, _BAND_FACETS = _bands_sql()


@dataclass(frozen=True)
class RenderedRow:
    """A product of a rendered page: its ordering values (for cursors) and its JSON."""

    product_id: int
    min_price: Decimal | None
    product_created_at: Any
    relevance: float | None
    body: str | None
    shown: bool  # still active: a document can outlive its product's status by a moment
    current: bool  # rendered for the shop's currency and settings


@dataclass(frozen=True)
class RenderedPage:
    category_known: bool
    rows: list[RenderedRow]
    facets: str  # the facets' JSON, as PostgreSQL built it


def storefront_page_rendered(
    *,
    q: str | None,
    category_slug: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    in_stock: bool | None,
    order_by: tuple[str, ...],
    after: tuple[str, str, Any] | None,
    offset: int,
    limit: int,
    rendering_key: str,
    max_age: int | None,
) -> RenderedPage:
    """
    One statement for a storefront page: the documents matching the filter, their
    facets (one pass, GROUPING SETS) and a window of them in `order_by` (fields
    of _PAGE_COLUMNS, `-` for descending) after an optional (field, "<" or ">",
    value) position, with each product's rendering.
    """
    params: dict[str, Any] = {"key": rendering_key, "offset": offset, "limit": limit}
    where = ["true"]
    relevance = "NULL::real"
    if q:
        params["q"] = q
        query = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %(q)s)"
        where.append(f"d.search_vector @@ {query}")
        relevance = f"ts_rank(d.search_vector, {query})"
    category_cte = "category AS (SELECT NULL::varchar AS path WHERE false)"
    if category_slug:
        params["category"] = category_slug
        category_cte = "category AS (SELECT path FROM catalog_category WHERE slug = %(category)s)"
        where.append("d.category_path LIKE (SELECT path FROM category) || '%%'")
    if min_price is not None:
        params["min_price"] = min_price
        where.append("d.max_price >= %(min_price)s")
    if max_price is not None:
        params["max_price"] = max_price
        where.append("d.min_price <= %(max_price)s")
    if in_stock:
        where.append("d.in_stock")
    order = ", ".join(f"m.{f.lstrip('-')} {'DESC' if f.startswith('-') else 'ASC'}" for f in order_by)
    position = "true"
    if after is not None:
        field, op, value = after
        params["position"] = value
        position = f"m.{field} {op} %(position)s::{_PAGE_COLUMNS[field]}"
    # Only the first ordering field makes cursors: the others come back as NULL, not parsed.
    first = order_by[0].lstrip("-")
    positions = ", ".join(
        f"p.{field}" if field == first else f"NULL::{_PAGE_COLUMNS[field]}"
        for field in ("min_price", "product_created_at", "relevance")
    )
    fresh = "d.rendering_key = %(key)s"
    if max_age is not None:
        params["max_age"] = max_age
        fresh += " AND d.refreshed_at > now() - make_interval(secs => %(max_age)s)"
    sql = f"""
WITH {category_cte},
matched AS (
    SELECT d.product_id, d.min_price, d.product_created_at, d.in_stock, d.category_id,
           {relevance} AS relevance
    FROM catalog_searchdocument d
    WHERE {" AND ".join(where)}
),
counts AS (
    SELECT GROUPING(category_id) AS overall, category_id, count(*) AS total,
           count(*) FILTER (WHERE in_stock) AS in_stock,
           {_BAND_COUNTS}
    FROM matched GROUP BY GROUPING SETS ((), (category_id))
),
page AS (
    SELECT m.product_id, m.min_price, m.product_created_at, m.relevance,
           row_number() OVER (ORDER BY {order}) AS ordinal
    FROM matched m WHERE {position}
    ORDER BY {order} OFFSET %(offset)s LIMIT %(limit)s
)
SELECT EXISTS (SELECT 1 FROM category),
       CASE WHEN p.ordinal IS NOT DISTINCT FROM (SELECT min(ordinal) FROM page) THEN (
           SELECT json_build_object(
               'total', c.total, 'in_stock', c.in_stock,
               'categories', COALESCE((
                   SELECT json_agg(json_build_object('id', k.id, 'slug', k.slug, 'name', k.name,
                                                     'count', x.total) ORDER BY k.path)
                   FROM counts x JOIN catalog_category k ON k.id = x.category_id WHERE x.overall = 0
               ), '[]'::json),
               'price_bands', json_build_array({_BAND_FACETS})
           )::text FROM counts c WHERE c.overall = 1
       ) END,
       p.product_id, {positions}, d.storefront_json,
       pr.id IS NOT NULL, COALESCE({fresh}, false)
FROM (SELECT 1) AS one
LEFT JOIN page p ON true
LEFT JOIN catalog_searchdocument d ON d.product_id = p.product_id
LEFT JOIN catalog_product pr ON pr.id = p.product_id AND pr.status = 'active'
ORDER BY p.ordinal
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    first = result[0]
    rows = [RenderedRow(*row[2:]) for row in result if row[2] is not None]
    return RenderedPage(category_known=bool(first[0]) or not category_slug, rows=rows, facets=first[1])


def storefront_product_rendered(*, slug: str, rendering_key: str, max_age: int | None) -> str | None:
    """The current rendering of an active product, or None (no such product, or not rendered yet)."""
    fresh = "d.rendering_key = %s"
    params: list[Any] = [slug, rendering_key]
    if max_age is not None:
        fresh += " AND d.refreshed_at > now() - make_interval(secs => %s)"
        params.append(max_age)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.storefront_json FROM catalog_product p "
            "JOIN catalog_searchdocument d ON d.product_id = p.id "
            f"WHERE p.slug = %s AND p.status = 'active' AND {fresh}",
            params,
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


# --- Sitemaps ------------------------------------------------------------------------


def products_on_sale_count() -> int:
    return Product.objects.filter(status=Product.Status.ACTIVE).count()


def products_on_sale_window(*, offset: int, limit: int) -> list[tuple[str, Any]]:
    """(slug, updated_at) of active products, by id: a sitemap file's worth."""
    return list(
        Product.objects.filter(status=Product.Status.ACTIVE)
        .order_by("id")
        .values_list("slug", "updated_at")[offset : offset + limit]
    )


def categories_for_sitemap() -> list[tuple[str, Any]]:
    """(slug, updated_at) of every category."""
    return list(Category.objects.order_by("path").values_list("slug", "updated_at"))
