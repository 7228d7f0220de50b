"""
The product import's writer: a checked file's plans written a chunk of products at
a time, each chunk in a fixed number of statements (the chunk's products and
variants locked in two reads; new products, variants, price history, stock ledger
rows, audit entries and events each one INSERT; changed products and variants one
UPDATE each) instead of the dozen or more the single-edit services spend on each
product. What those services guarantee holds here too: each product gets its
audit entry and its `product.created`/`product.updated` event (so webhooks and the
search documents follow, the documents refreshed by the worker a batch of events
at a time), each price its history row, each stock change its ledger row (and
`inventory.low` when it crosses the threshold), attributes are checked against
the category's schema. The caller holds the one transaction: the file is written
whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils import timezone

from catalog.attributes import attributes_check
from catalog.changes import catalog_changes_record, price_changes_record
from catalog.image_fetch import ImageCache
from catalog.images import image_import
from catalog.inventory import StockMove, ledger_write
from catalog.models import Category, InventoryAdjustment, Product, ProductImage, Variant
from catalog.product_csv import ImagePlan, ProductPlan, VariantPlan
from catalog.services import product_snapshot, variant_snapshot
from tenants.audit.services import Actor, AuditChange
from tenants.errors import DomainError
from tenants.inserts import rows_insert
from tenants.outbox.events import EventType
from tenants.storage import object_url

CHUNK_PRODUCTS = 500
LOW_STOCK_THRESHOLD = 5  # new variants', as VariantSpec's default
PRODUCT_FIELDS = ("title", "description", "status", "category", "attributes", "vendor", "tags")
VARIANT_FIELDS = ("title", "options", "price", "compare_at_price", "stock")


class PlanRefused(Exception):
    """A service refused what a plan asks (its first line says which rows)."""

    def __init__(self, line: int, refused: DomainError) -> None:
        super().__init__(refused.detail)
        self.line = line
        self.refused = refused


@dataclass
class ImportCounts:
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0


@dataclass
class _Chunk:
    """What one chunk writes, gathered before the statements that write it."""

    actor: Actor
    audits: list[AuditChange]
    events: dict[int, EventType]  # product id -> product.created / product.updated
    slugs: list[str]
    price_changes: list[tuple[Variant, Decimal | None, Decimal]]  # (variant, old price, new price)
    stock_moves: list[StockMove]
    products_changed: list[Product]
    variants_changed: list[Variant]


def plans_chunk_write(
    plans: list[ProductPlan],
    *,
    categories: Callable[[list[str]], Category],
    actor: Actor,
    counts: ImportCounts,
    images: ImageCache | None,
    stored_keys: list[str],
) -> None:
    """
    Write one chunk of plans (the caller's transaction). `categories` finds or
    creates a category by its path; `images` holds the downloaded images, whose
    stored keys are added to `stored_keys` (for the caller to remove on rollback).
    """
    chunk = _Chunk(actor, [], {}, [], [], [], [], [])
    locked = {
        product.slug: product
        for product in Product.objects.filter(slug__in=[plan.handle for plan in plans])
        .select_for_update(of=("self",))
        .select_related("category")
    }
    variants: dict[int, list[Variant]] = {}
    for variant in (
        Variant.objects.filter(product__in=list(locked.values()))
        .select_for_update()
        .order_by("position", "id")
    ):
        variants.setdefault(variant.product_id, []).append(variant)
    new_plans = [plan for plan in plans if plan.handle not in locked]
    created = _products_create(new_plans, categories=categories)
    new_variants: list[tuple[Product, VariantPlan, int, bool]] = []  # product, plan, position, with it
    for plan, product in zip(new_plans, created, strict=True):
        new_variants += [(product, variant, index, True) for index, variant in enumerate(plan.variants)]
        counts.products_created += 1
    for plan in plans:
        found = locked.get(plan.handle)
        if found is not None:
            added = _product_update(plan, found, variants.get(found.pk, []), chunk, categories)
            new_variants += added
            counts.products_updated += 1
            counts.variants_updated += len(plan.variants) - len(added)
    inserted = _variants_create(new_variants, chunk)
    counts.variants_created += len(new_variants)
    for product in created:
        chunk.audits.append(
            AuditChange(
                "product.created",
                "product",
                product.pk,
                after={
                    **product_snapshot(product),
                    "variants": [variant_snapshot(v) for v in inserted.get(product.pk, [])],
                },
            )
        )
        chunk.events[product.pk] = EventType.PRODUCT_CREATED
        chunk.slugs.append(product.slug)
    _chunk_flush(chunk)
    if images is not None:
        by_handle = {**{product.slug: product for product in created}, **locked}
        for plan in plans:
            if plan.images:
                try:
                    _images_add(
                        by_handle[plan.handle], plan.images, images, actor=actor, stored_keys=stored_keys
                    )
                except DomainError as refused:  # the plan's storage limit, a file that changed its mind
                    raise PlanRefused(plan.images[0].line, refused) from None


def _products_create(
    plans: list[ProductPlan], *, categories: Callable[[list[str]], Category]
) -> list[Product]:
    products = []
    for plan in plans:
        category = categories(plan.category_path) if plan.category_path else None
        attributes = plan.attributes or {}
        try:
            attributes_check(attributes, category)
        except DomainError as refused:
            raise PlanRefused(plan.line, refused) from None
        products.append(
            Product(
                title=plan.title or "",
                slug=plan.handle,
                description=plan.description or "",
                status=plan.status or Product.Status.DRAFT,
                category=category,
                attributes=attributes,
                vendor=plan.vendor or "",
                tags=plan.tags or [],
            )
        )
    return rows_insert(products)


def _product_update(
    plan: ProductPlan,
    product: Product,
    variants: list[Variant],
    chunk: _Chunk,
    categories: Callable[[list[str]], Category],
) -> list[tuple[Product, VariantPlan, int, bool]]:
    """Apply a plan to a locked product and its variants; return the variants it adds."""
    before = product_snapshot(product)
    changes: dict[str, Any] = {
        name: getattr(plan, name)
        for name in ("title", "description", "status", "attributes", "vendor", "tags")
        if getattr(plan, name) is not None
    }
    if plan.category_path:
        changes["category"] = categories(plan.category_path)
    for name, value in changes.items():
        setattr(product, name, value)
    if "category" in changes or "attributes" in changes:
        try:
            attributes_check(product.attributes, product.category)
        except DomainError as refused:
            raise PlanRefused(plan.line, refused) from None
    after = product_snapshot(product)
    if after != before:
        product.updated_at = timezone.now()
        chunk.products_changed.append(product)
        chunk.audits.append(AuditChange("product.updated", "product", product.pk, before=before, after=after))
        chunk.events[product.pk] = EventType.PRODUCT_UPDATED
        chunk.slugs.append(product.slug)
    by_sku = {variant.sku: variant for variant in variants}
    added: list[tuple[Product, VariantPlan, int, bool]] = []
    for variant_plan in plan.variants:
        variant = by_sku.get(variant_plan.sku)
        if variant is None:
            added.append((product, variant_plan, len(variants) + len(added), False))
        elif _variant_update(variant, variant_plan, chunk):
            chunk.events.setdefault(product.pk, EventType.PRODUCT_UPDATED)
            chunk.slugs.append(product.slug)
    return added


def _variant_update(variant: Variant, plan: VariantPlan, chunk: _Chunk) -> bool:
    """Apply a plan to a locked variant, gathering its history, ledger and audit rows; whether it changed."""
    before = variant_snapshot(variant)
    if plan.price is not None and plan.price != variant.price:
        chunk.price_changes.append((variant, variant.price, plan.price))
        variant.price = plan.price
    if plan.compare_at_given:
        variant.compare_at_price = plan.compare_at_price
    if plan.options:
        variant.options = plan.options
    if plan.title is not None:
        variant.title = plan.title
    if plan.stock is not None and plan.stock != variant.stock:
        delta = plan.stock - variant.stock
        chunk.stock_moves.append(
            StockMove(
                variant.pk, variant.product_id, variant.sku, delta, plan.stock, variant.low_stock_threshold
            )
        )
        variant.stock = plan.stock
    after = variant_snapshot(variant)
    if after == before:
        return False
    variant.updated_at = timezone.now()
    chunk.variants_changed.append(variant)
    chunk.audits.append(AuditChange("variant.updated", "variant", variant.pk, before=before, after=after))
    return True


def _variants_create(
    planned: list[tuple[Product, VariantPlan, int, bool]], chunk: _Chunk
) -> dict[int, list[Variant]]:
    """Insert the chunk's new variants with their first price and stock rows; return them by product."""
    variants = rows_insert(
        [
            Variant(
                product_id=product.pk,
                sku=plan.sku,
                title=plan.title or "",
                options=plan.options,
                price=plan.price if plan.price is not None else Decimal(0),
                compare_at_price=plan.compare_at_price,
                stock=plan.stock or 0,
                low_stock_threshold=LOW_STOCK_THRESHOLD,
                weight_grams=0,
                position=position,
            )
            for product, plan, position, _ in planned
        ]
    )
    by_product: dict[int, list[Variant]] = {}
    for variant, (product, _, _, with_product) in zip(variants, planned, strict=True):
        by_product.setdefault(product.pk, []).append(variant)
        chunk.price_changes.append((variant, None, variant.price))
        if not with_product:  # a variant added to a product the shop had: its own entry, as variant_create
            chunk.audits.append(
                AuditChange("variant.created", "variant", variant.pk, after=variant_snapshot(variant))
            )
            chunk.events.setdefault(product.pk, EventType.PRODUCT_UPDATED)
            chunk.slugs.append(product.slug)
    rows_insert(
        [
            InventoryAdjustment(
                variant_id=variant.pk,
                delta=variant.stock,
                stock_after=variant.stock,
                reason=InventoryAdjustment.Reason.INITIAL,
                actor_label=chunk.actor.label,
            )
            for variant in variants
            if variant.stock
        ]
    )
    return by_product


def _chunk_flush(chunk: _Chunk) -> None:
    """Write what the chunk gathered: one statement per table."""
    if chunk.products_changed:
        Product.objects.bulk_update(chunk.products_changed, [*PRODUCT_FIELDS, "updated_at"])
    if chunk.variants_changed:
        Variant.objects.bulk_update(chunk.variants_changed, [*VARIANT_FIELDS, "updated_at"])
    if chunk.price_changes:
        price_changes_record(changes=chunk.price_changes, changed_by=chunk.actor.label)
    if chunk.stock_moves:
        ledger_write(
            moves=chunk.stock_moves,
            reason=InventoryAdjustment.Reason.CORRECTION,
            note="Set by a product import",
            actor=chunk.actor,
        )
    catalog_changes_record(actor=chunk.actor, changes=chunk.audits, events=chunk.events, slugs=chunk.slugs)


def image_is_known(product: Product, src: str) -> bool:
    """Whether `src` is the URL of one of the product's own images (an export imported back)."""
    return any(
        image.status == ProductImage.Status.READY and object_url(image.key) == src
        for image in product.images.all()
    )


def _images_add(
    product: Product, planned: list[ImagePlan], images: ImageCache, *, actor: Actor, stored_keys: list[str]
) -> None:
    """Store a product's downloaded images in Image Position order, adding their keys to `stored_keys`."""
    known = {
        object_url(image.key)
        for image in ProductImage.objects.filter(product=product, status=ProductImage.Status.READY)
    }
    last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
    position = 0 if last is None else last + 1
    ordered = sorted(planned, key=lambda image: (image.position is None, image.position or 0, image.line))
    for image in ordered:
        if image.src in known:
            continue
        data, content_type = images.read(image.src)
        added = image_import(
            actor=actor,
            product=product,
            data=data,
            content_type=content_type,
            alt=image.alt,
            position=position,
        )
        stored_keys.append(added.key)
        position += 1
