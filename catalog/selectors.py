"""
Catalog reads, tuned once. Every query runs in the current shop's schema; the
`access_*` loaders are the only way the API fetches one object by id or slug.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, F, Prefetch, Q, QuerySet

from catalog.errors import CatalogNotFound
from catalog.models import Category, InventoryAdjustment, Product, ProductImage, SearchDocument, Variant
from catalog.search import SEARCH_CONFIG

# --- Admin -----------------------------------------------------------------------

ADMIN_PRODUCT_PREFETCH = (
    Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
    Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
)


def products_for_admin(
    *, status: str | None = None, category_id: int | None = None, q: str | None = None
) -> QuerySet[Product]:
    products = Product.objects.select_related("category").prefetch_related(*ADMIN_PRODUCT_PREFETCH)
    if status:
        products = products.filter(status=status)
    if category_id is not None:
        products = products.filter(category_id=category_id)
    if q:
        products = products.filter(Q(title__icontains=q) | Q(variants__sku__iexact=q)).distinct()
    return products.order_by("-id")


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
    """Whether `key` (`tenants/{schema}/products/{id}/...`) is a confirmed image's original or thumbnail."""
    parts = key.split("/")
    if len(parts) < 5 or parts[2] != "products" or not parts[3].isdigit():
        return False
    images = ProductImage.objects.filter(product_id=int(parts[3]), status=ProductImage.Status.READY)
    return images.filter(Q(key=key) | Q(thumbnail_key=key)).exists()


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
