"""
Catalog writes. Each function is one transaction that also records its audit
entry and its outbox event; the storefront cache is bumped when it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from billing.limits import Metric
from billing.services import usage_release, usage_take
from catalog.attributes import attribute_order, attribute_schema_check, attributes_check
from catalog.cache import storefront_cache_bump, storefront_pages_changed_on_commit
from catalog.errors import (
    CategoryCycle,
    CategoryHasChildren,
    InsufficientStock,
    LastVariant,
    SkuTaken,
    SlugTaken,
    VariantUnavailable,
)
from catalog.models import Category, InventoryAdjustment, PriceChange, Product, ProductImage, Variant
from tenants.audit.services import Actor, audit_record
from tenants.conventions.money import Money
from tenants.errors import DomainError
from tenants.inserts import rows_insert
from tenants.outbox.services import event_record, events_record
from tenants.schemas import current_currency
from tenants.storage import objects_delete_on_commit, upload_key_for

UNSET: Any = object()


@dataclass
class VariantSpec:
    sku: str
    price: Decimal
    compare_at_price: Decimal | None = None
    stock: int = 0
    low_stock_threshold: int = 5
    weight_grams: int = 0
    title: str = ""
    options: dict[str, str] = field(default_factory=dict)


# --- Snapshots for the audit log and events -------------------------------------


def _money(value: Decimal | None) -> str | None:
    """A stored price as the shop's currency writes it ("35.00", not "35.000")."""
    return None if value is None else str(Money(value, current_currency()).amount)


def category_snapshot(category: Category) -> dict[str, Any]:
    return {
        "id": category.pk,
        "name": category.name,
        "slug": category.slug,
        "parent_id": category.parent_id,
        "attribute_schema": category.attribute_schema,
        "position": category.position,
    }


def variant_snapshot(variant: Variant) -> dict[str, Any]:
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "title": variant.title,
        "options": variant.options,
        "price": _money(variant.price),
        "compare_at_price": _money(variant.compare_at_price),
        "stock": variant.stock,
        "low_stock_threshold": variant.low_stock_threshold,
        "weight_grams": variant.weight_grams,
    }


def product_snapshot(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "title": product.title,
        "slug": product.slug,
        "description": product.description,
        "status": product.status,
        "category_id": product.category_id,
        "attributes": product.attributes,
    }


def _after_commit_refresh() -> None:
    """Once the change commits, invalidate every cached storefront answer (categories show everywhere)."""
    transaction.on_commit(storefront_cache_bump)


def _storefront_product_changed(product_id: int, *, slugs: Iterable[str] = ()) -> None:
    """
    Once the change commits, invalidate the product's page (under its slug, and any
    slug it had: `slugs`) and every list and search page; other products' pages stay
    warm. Called after the change is written, so the slug read here is the new one.
    """
    current = Product.objects.filter(pk=product_id).values_list("slug", flat=True)
    storefront_pages_changed_on_commit([*slugs, *current])


def _product_event(action: str, product_id: int, *, actor: Actor, slugs: Iterable[str] = ()) -> None:
    event_record(type=f"product.{action}", payload={"product_id": product_id, "actor": actor.label})
    _storefront_product_changed(product_id, slugs=slugs)


# --- Categories ------------------------------------------------------------------


def _unique_slug(model: type[Category] | type[Product], base: str) -> str:
    base = slugify(base)[:200] or "item"
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def _set_path(category: Category) -> None:
    parent_path = category.parent.path if category.parent_id and category.parent else "/"
    category.path = f"{parent_path}{category.pk}/"


def category_create(
    *,
    actor: Actor,
    name: str,
    slug: str | None = None,
    parent: Category | None = None,
    attribute_schema: dict[str, Any] | None = None,
    position: int = 0,
) -> Category:
    attribute_schema_check(attribute_schema)
    with transaction.atomic():
        if slug and Category.objects.filter(slug=slug).exists():
            raise SlugTaken(
                f"A category already uses the slug {slug!r}.", errors={"slug": ["Already in use."]}
            )
        category = Category.objects.create(
            name=name,
            slug=slug or _unique_slug(Category, name),
            parent=parent,
            attribute_schema=attribute_schema,
            attribute_order=attribute_order(attribute_schema),
            position=position,
            path="",
        )
        _set_path(category)
        category.save(update_fields=["path"])
        audit_record(
            actor=actor,
            action="category.created",
            object_type="category",
            object_id=category.pk,
            after=category_snapshot(category),
        )
        _after_commit_refresh()
    return category


def category_update(*, actor: Actor, category: Category, **changes: Any) -> Category:
    """Change name, slug, position, attribute_schema or parent (moving its whole subtree)."""
    if "attribute_schema" in changes:
        attribute_schema_check(changes["attribute_schema"])
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        before = category_snapshot(category)
        before_order = list(category.attribute_order)
        if (
            "slug" in changes
            and Category.objects.filter(slug=changes["slug"]).exclude(pk=category.pk).exists()
        ):
            raise SlugTaken(
                f"A category already uses the slug {changes['slug']!r}.", errors={"slug": ["Already in use."]}
            )
        old_path = category.path
        for name in ("name", "slug", "position", "attribute_schema"):
            if name in changes:
                setattr(category, name, changes[name])
        if "attribute_schema" in changes:
            category.attribute_order = attribute_order(category.attribute_schema)
        if "parent" in changes:
            parent = changes["parent"]
            if parent is not None and parent.path.startswith(old_path):
                raise CategoryCycle(
                    "A category cannot move under itself or its descendants.",
                    errors={"parent": ["Would create a cycle."]},
                )
            category.parent = parent
            _set_path(category)
        category.save()
        if category.path != old_path:
            _descendants_repath(old_path, category.path)
            # Their search documents hold the old path, which the category filter matches on.
            shown = Product.objects.filter(category__path__startswith=category.path)
        elif (before["name"], before["slug"], before["attribute_schema"]) != (
            category.name,
            category.slug,
            category.attribute_schema,
        ) or before_order != category.attribute_order:
            # Their storefront JSON names it and labels their attributes from its schema.
            shown = Product.objects.filter(category=category)
        else:
            shown = Product.objects.none()
        for product_id in shown.order_by("id").values_list("id", flat=True):
            _product_event("updated", product_id, actor=actor)
        audit_record(
            actor=actor,
            action="category.updated",
            object_type="category",
            object_id=category.pk,
            before=before,
            after=category_snapshot(category),
        )
        _after_commit_refresh()
    return category


def _descendants_repath(old_prefix: str, new_prefix: str) -> None:
    from django.db.models import Value
    from django.db.models.functions import Concat, Substr

    Category.objects.filter(path__startswith=old_prefix).exclude(path=new_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1))
    )


def category_delete(*, actor: Actor, category: Category, reassign_to: Category | None = None) -> None:
    """
    Delete a category without subcategories. Its products move to `reassign_to`
    (their attributes must then satisfy its schema) or, without one, lose their
    category.
    """
    with transaction.atomic():
        if category.children.exists():
            raise CategoryHasChildren("Move or delete its subcategories first.")
        if reassign_to is not None and reassign_to.pk == category.pk:
            raise DomainError(
                "Products cannot be moved to the category being deleted.",
                errors={"reassign_to": ["Choose another category."]},
            )
        before = category_snapshot(category)
        products = list(category.products.only("id", "attributes").order_by("id"))
        product_ids = [product.pk for product in products]
        if reassign_to is not None:
            for product in products:
                attributes_check(product.attributes, reassign_to)
            Product.objects.filter(pk__in=product_ids).update(category=reassign_to)
            before["products_moved_to"] = reassign_to.pk
        category.delete()
        audit_record(
            actor=actor,
            action="category.deleted",
            object_type="category",
            object_id=before["id"],
            before=before,
        )
        for product_id in product_ids:  # their search documents lose the category
            _product_event("updated", product_id, actor=actor)
        _after_commit_refresh()


def categories_reorder(*, actor: Actor, parent: Category | None, order: list[int]) -> list[Category]:
    """
    Put the children of `parent` (top-level categories when None) in this order:
    `order` names each of them once; their positions become 0, 1, 2...
    """
    with transaction.atomic():
        siblings = {
            category.pk: category
            for category in Category.objects.select_for_update().filter(parent=parent).order_by("id")
        }
        if len(order) != len(set(order)) or set(order) != set(siblings):
            raise DomainError(
                "Name every subcategory of that parent once, in the new order.",
                errors={"order": [f"Expected each of {sorted(siblings)} once."]},
            )
        changed = []
        for position, category_id in enumerate(order):
            category = siblings[category_id]
            if category.position != position:
                category.position = position
                changed.append(category)
        Category.objects.bulk_update(changed, ["position"])
        if changed:
            audit_record(
                actor=actor,
                action="categories.reordered",
                object_type="category",
                object_id=parent.pk if parent else None,
                after={"parent_id": parent.pk if parent else None, "order": order},
            )
            _after_commit_refresh()
    return [siblings[category_id] for category_id in order]


# --- Products --------------------------------------------------------------------


def _variant_add(product: Product, spec: VariantSpec, *, actor: Actor, position: int) -> Variant:
    try:
        with transaction.atomic():
            variant = Variant.objects.create(
                product=product,
                sku=spec.sku,
                title=spec.title,
                options=spec.options,
                price=spec.price,
                compare_at_price=spec.compare_at_price,
                stock=spec.stock,
                low_stock_threshold=spec.low_stock_threshold,
                weight_grams=spec.weight_grams,
                position=position,
            )
    except IntegrityError:
        raise SkuTaken(
            f"The SKU {spec.sku!r} is already in use.", errors={"sku": [f"{spec.sku!r} is in use."]}
        ) from None
    PriceChange.objects.create(
        variant=variant, old_price=None, new_price=variant.price, changed_by=actor.label
    )
    if variant.stock:
        InventoryAdjustment.objects.create(
            variant=variant,
            delta=variant.stock,
            stock_after=variant.stock,
            reason=InventoryAdjustment.Reason.INITIAL,
            actor_label=actor.label,
        )
    return variant


def product_create(
    *,
    actor: Actor,
    title: str,
    variants: Iterable[VariantSpec],
    slug: str | None = None,
    description: str = "",
    status: str = Product.Status.DRAFT,
    category: Category | None = None,
    attributes: dict[str, Any] | None = None,
    plan_slot_taken: bool = False,
) -> Product:
    """
    Create a product with its variants. `plan_slot_taken`: the caller took the plan's
    product slot already, in this transaction (an import takes all of a file's at once).
    """
    specs = list(variants)
    if not specs:
        raise LastVariant(
            "A product needs at least one variant.", errors={"variants": ["Give at least one variant."]}
        )
    skus = [spec.sku for spec in specs]
    if len(set(skus)) != len(skus):
        raise SkuTaken("Each variant needs its own SKU.", errors={"variants": ["SKUs repeat."]})
    attributes = attributes or {}
    attributes_check(attributes, category)
    with transaction.atomic():
        if slug and Product.objects.filter(slug=slug).exists():
            raise SlugTaken(
                f"A product already uses the slug {slug!r}.", errors={"slug": ["Already in use."]}
            )
        # The plan's product limit: 402 beyond it; the slot is given back if this rolls back.
        if not plan_slot_taken:
            usage_take(metric=Metric.PRODUCTS)
        product = Product.objects.create(
            title=title,
            slug=slug or _unique_slug(Product, title),
            description=description,
            status=status,
            category=category,
            attributes=attributes,
        )
        created = [
            _variant_add(product, spec, actor=actor, position=index) for index, spec in enumerate(specs)
        ]
        audit_record(
            actor=actor,
            action="product.created",
            object_type="product",
            object_id=product.pk,
            after={**product_snapshot(product), "variants": [variant_snapshot(v) for v in created]},
        )
        _product_event("created", product.pk, actor=actor)
    return product


def product_update(*, actor: Actor, product: Product, **changes: Any) -> Product:
    """Change title, slug, description, status, category or attributes."""
    with transaction.atomic():
        product = (
            Product.objects.select_for_update(of=("self",)).select_related("category").get(pk=product.pk)
        )
        before = product_snapshot(product)
        if "slug" in changes and Product.objects.filter(slug=changes["slug"]).exclude(pk=product.pk).exists():
            raise SlugTaken(
                f"A product already uses the slug {changes['slug']!r}.", errors={"slug": ["Already in use."]}
            )
        for name in ("title", "slug", "description", "status", "category", "attributes"):
            if name in changes:
                setattr(product, name, changes[name])
        if "category" in changes or "attributes" in changes:
            attributes_check(product.attributes, product.category)
        product.save()
        after = product_snapshot(product)
        if after != before:
            audit_record(
                actor=actor,
                action="product.updated",
                object_type="product",
                object_id=product.pk,
                before=before,
                after=after,
            )
            _product_event("updated", product.pk, actor=actor, slugs=[before["slug"]])
    return product


def product_delete(*, actor: Actor, product: Product) -> None:
    """Delete a product with its variants and images; the image files go once the deletion commits."""
    with transaction.atomic():
        before = product_snapshot(product)
        product_images = list(product.images.all())
        # Each image's file, thumbnail, widths and (for one never confirmed) upload under uploads/.
        objects_delete_on_commit(
            key
            for image in product_images
            for key in (image.key, *image.derived_keys(), upload_key_for(image.key))
            if key
        )
        product_id = product.pk
        deleted, _ = Product.objects.filter(pk=product_id).delete()
        if deleted:
            usage_release(metric=Metric.PRODUCTS)
            usage_release(
                metric=Metric.STORAGE_BYTES,
                amount=sum(
                    image.size or 0 for image in product_images if image.status == ProductImage.Status.READY
                ),
            )
        audit_record(
            actor=actor, action="product.deleted", object_type="product", object_id=product_id, before=before
        )
        _product_event("deleted", product_id, actor=actor, slugs=[before["slug"]])


# --- Variants and stock ----------------------------------------------------------


def variant_create(*, actor: Actor, product: Product, spec: VariantSpec) -> Variant:
    with transaction.atomic():
        position = product.variants.count()
        variant = _variant_add(product, spec, actor=actor, position=position)
        audit_record(
            actor=actor,
            action="variant.created",
            object_type="variant",
            object_id=variant.pk,
            after=variant_snapshot(variant),
        )
        _product_event("updated", product.pk, actor=actor)
    return variant


def variant_update(
    *,
    actor: Actor,
    variant: Variant,
    sku: str = UNSET,
    title: str = UNSET,
    options: dict[str, str] = UNSET,
    price: Decimal = UNSET,
    compare_at_price: Decimal | None = UNSET,
    low_stock_threshold: int = UNSET,
    stock: int = UNSET,
    weight_grams: int = UNSET,
) -> Variant:
    """Change a variant; a new price goes to the price history, a new stock to the ledger as a correction."""
    with transaction.atomic():
        variant = Variant.objects.select_for_update().get(pk=variant.pk)
        before = variant_snapshot(variant)
        if sku is not UNSET and Variant.objects.filter(sku=sku).exclude(pk=variant.pk).exists():
            raise SkuTaken(f"The SKU {sku!r} is already in use.", errors={"sku": [f"{sku!r} is in use."]})
        for name, value in (
            ("sku", sku),
            ("title", title),
            ("options", options),
            ("compare_at_price", compare_at_price),
            ("low_stock_threshold", low_stock_threshold),
            ("weight_grams", weight_grams),
        ):
            if value is not UNSET:
                setattr(variant, name, value)
        if price is not UNSET and price != variant.price:
            PriceChange.objects.create(
                variant=variant, old_price=variant.price, new_price=price, changed_by=actor.label
            )
            variant.price = price
        variant.save()
        if stock is not UNSET and stock != variant.stock:
            _stock_change(
                variant,
                stock - variant.stock,
                reason=InventoryAdjustment.Reason.CORRECTION,
                note="Set through the variant",
                actor=actor,
            )
            variant.refresh_from_db(fields=["stock"])
        after = variant_snapshot(variant)
        if after != before:
            audit_record(
                actor=actor,
                action="variant.updated",
                object_type="variant",
                object_id=variant.pk,
                before=before,
                after=after,
            )
            _product_event("updated", variant.product_id, actor=actor)
    return variant


def variant_delete(*, actor: Actor, variant: Variant) -> None:
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=variant.product_id)
        if product.variants.count() <= 1:
            raise LastVariant("A product needs at least one variant; delete the product instead.")
        before = variant_snapshot(variant)
        variant.delete()
        audit_record(
            actor=actor,
            action="variant.deleted",
            object_type="variant",
            object_id=before["id"],
            before=before,
        )
        _product_event("updated", product.pk, actor=actor)


def _stock_change(
    variant: Variant, delta: int, *, reason: str, note: str, actor: Actor
) -> InventoryAdjustment:
    """Apply `delta` atomically (never below zero), write the ledger, report a low-stock crossing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_variant SET stock = stock + %s, updated_at = now() "
            "WHERE id = %s AND stock + %s >= 0 RETURNING stock, low_stock_threshold, sku, product_id",
            [delta, variant.pk, delta],
        )
        row = cursor.fetchone()
    if row is None:
        raise InsufficientStock(
            f"Stock of {variant.sku} cannot go below zero.",
            errors={"delta": ["More than the stock on hand."]},
        )
    stock, threshold, sku, product_id = row
    (adjustment,) = _ledger_write(
        moves=[StockMove(variant.pk, product_id, sku, delta, stock, threshold)],
        reason=reason,
        note=note,
        actor=actor,
    )
    return adjustment


@dataclass(frozen=True)
class StockMove:
    """One variant's stock change, as the ledger records it."""

    variant_id: int
    product_id: int
    sku: str
    delta: int
    stock_after: int
    threshold: int

    @property
    def crossed_low_stock(self) -> bool:
        return self.stock_after - self.delta > self.threshold >= self.stock_after


def _ledger_write(
    *, moves: list[StockMove], reason: str, note: str, actor: Actor
) -> list[InventoryAdjustment]:
    """Record stock changes in the ledger (one INSERT) and report crossings of the low-stock threshold."""
    adjustments = rows_insert(
        [
            InventoryAdjustment(
                variant_id=move.variant_id,
                delta=move.delta,
                stock_after=move.stock_after,
                reason=reason,
                note=note,
                actor_label=actor.label,
            )
            for move in moves
        ]
    )
    low = [
        (
            "inventory.low",
            {
                "variant_id": move.variant_id,
                "product_id": move.product_id,
                "sku": move.sku,
                "stock": move.stock_after,
                "low_stock_threshold": move.threshold,
            },
        )
        for move in moves
        if move.crossed_low_stock
    ]
    if low:
        events_record(events=low)
    return adjustments


@dataclass(frozen=True)
class ReservedLine:
    """A variant reserved for an order, with what it was at that moment."""

    variant_id: int
    product_id: int
    sku: str
    title: str
    variant_title: str
    unit_price: Decimal
    quantity: int
    # What orders.pricing needs of it, read in the same statement: its weight for shipping rates,
    # its product's category for discount scopes and reduced tax rates.
    weight_grams: int = 0
    category_id: int | None = None


_RESERVE_SQL = """
UPDATE catalog_variant v SET stock = v.stock - %s, updated_at = now()
FROM catalog_product p
WHERE v.id = %s AND p.id = v.product_id AND p.status = 'active' AND v.stock >= %s
RETURNING v.id, v.product_id, v.sku, p.title, v.title, v.price, v.stock, v.low_stock_threshold,
          v.weight_grams, p.category_id
"""


def stock_reserve(*, items: dict[int, int], actor: Actor, note: str = "") -> list[ReservedLine]:
    """
    Take `quantity` of each variant off its stock, or nothing at all: one
    conditional UPDATE a variant (in id order, so concurrent checkouts cannot
    deadlock), inside the caller's transaction. Under any concurrency a variant
    never sells more than it has; the losers get InsufficientStock.
    """
    reserved: list[ReservedLine] = []
    moves: list[StockMove] = []
    with connection.cursor() as cursor:
        for variant_id, quantity in sorted(items.items()):
            cursor.execute(_RESERVE_SQL, [quantity, variant_id, quantity])
            row = cursor.fetchone()
            if row is None:
                _refuse_reservation(variant_id, quantity)
            _, product_id, sku, title, variant_title, price, stock, threshold, weight, category_id = row
            reserved.append(
                ReservedLine(
                    variant_id, product_id, sku, title, variant_title, price, quantity, weight, category_id
                )
            )
            moves.append(StockMove(variant_id, product_id, sku, -quantity, stock, threshold))
    _ledger_write(moves=moves, reason=InventoryAdjustment.Reason.SOLD, note=note, actor=actor)
    _storefront_stock_flipped({move.product_id for move in moves if move.stock_after == 0}, actor=actor)
    return reserved


def _refuse_reservation(variant_id: int, quantity: int) -> None:
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None or variant.product.status != Product.Status.ACTIVE:
        raise VariantUnavailable(
            "An item is no longer for sale.", errors={"variant": [f"Variant {variant_id} is not for sale."]}
        )
    raise InsufficientStock(
        f"Only {variant.stock} of {variant.sku} left.",
        errors={"quantity": [f"{variant.sku}: {variant.stock} left, {quantity} wanted."]},
    )


def stock_release(*, items: dict[int, int], actor: Actor, reason: str, note: str = "") -> None:
    """Put reserved stock back (a cancelled order); variants deleted since are skipped."""
    moves: list[StockMove] = []
    with connection.cursor() as cursor:
        for variant_id, quantity in sorted(items.items()):
            cursor.execute(
                "UPDATE catalog_variant SET stock = stock + %s, updated_at = now() WHERE id = %s "
                "RETURNING product_id, sku, stock, low_stock_threshold",
                [quantity, variant_id],
            )
            row = cursor.fetchone()
            if row is not None:
                product_id, sku, stock, threshold = row
                moves.append(StockMove(variant_id, product_id, sku, quantity, stock, threshold))
    if moves:
        _ledger_write(moves=moves, reason=reason, note=note, actor=actor)
    # A variant whose stock is now exactly what came back was sold out.
    _storefront_stock_flipped(
        {move.product_id for move in moves if move.stock_after == move.delta}, actor=actor
    )


def _storefront_stock_flipped(product_ids: set[int], *, actor: Actor) -> None:
    """
    The storefront shows whether a variant is in stock, not how many are left, so
    only a sell-out or a restock from zero changes what shoppers see: only then
    refresh the product's search document and the shop's cached responses.
    """
    for product_id in sorted(product_ids):
        _product_event("updated", product_id, actor=actor)


def inventory_adjust(
    *, actor: Actor, variant: Variant, delta: int, reason: str, note: str = ""
) -> InventoryAdjustment:
    """Add or remove stock with a reason; the ledger keeps every adjustment."""
    if delta == 0:
        raise InsufficientStock(
            "An adjustment must change the stock.", errors={"delta": ["Must not be zero."]}
        )
    with transaction.atomic():
        adjustment = _stock_change(variant, delta, reason=reason, note=note, actor=actor)
        audit_record(
            actor=actor,
            action="inventory.adjusted",
            object_type="variant",
            object_id=variant.pk,
            before={"stock": adjustment.stock_after - delta},
            after={"stock": adjustment.stock_after, "reason": reason, "note": note},
        )
        _product_event("updated", variant.product_id, actor=actor)
    return adjustment
