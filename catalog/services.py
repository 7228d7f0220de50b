"""
Catalog writes: categories, products and variants (stock is in inventory.py).
Each function is one transaction that records its audit entry and its outbox
events with catalog_change_record (changes.py); the storefront cache is bumped
when it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from billing.limits import Metric
from billing.services import usage_release, usage_take
from catalog.attributes import attribute_order, attribute_schema_check, attributes_check
from catalog.changes import catalog_change_record, price_changes_record
from catalog.errors import (
    CategoryCycle,
    CategoryHasChildren,
    LastVariant,
    SkuTaken,
    SlugTaken,
)
from catalog.inventory import stock_change
from catalog.models import Category, InventoryAdjustment, Product, ProductImage, Variant
from tenants.audit.services import Actor
from tenants.errors import DomainError
from tenants.money import Money
from tenants.outbox.events import EventType
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
        "vendor": product.vendor,
        "tags": list(product.tags),
    }


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
        catalog_change_record(
            actor=actor,
            action="category.created",
            object_type="category",
            object_id=category.pk,
            after=category_snapshot(category),
            whole_storefront=True,
        )
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
        catalog_change_record(
            actor=actor,
            action="category.updated",
            object_type="category",
            object_id=category.pk,
            before=before,
            after=category_snapshot(category),
            products=shown.values_list("id", flat=True),
            whole_storefront=True,
        )
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
        catalog_change_record(
            actor=actor,
            action="category.deleted",
            object_type="category",
            object_id=before["id"],
            before=before,
            products=product_ids,  # their search documents lose the category
            whole_storefront=True,
        )


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
            catalog_change_record(
                actor=actor,
                action="categories.reordered",
                object_type="category",
                object_id=parent.pk if parent else None,
                after={"parent_id": parent.pk if parent else None, "order": order},
                whole_storefront=True,
            )
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
    vendor: str = "",
    tags: list[str] | None = None,
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
            vendor=vendor,
            tags=tags or [],
        )
        created = [
            _variant_add(product, spec, actor=actor, position=index) for index, spec in enumerate(specs)
        ]
        price_changes_record(changes=[(v, None, v.price) for v in created], changed_by=actor.label)
        catalog_change_record(
            actor=actor,
            action="product.created",
            object_type="product",
            object_id=product.pk,
            after={**product_snapshot(product), "variants": [variant_snapshot(v) for v in created]},
            products=[product.pk],
            event=EventType.PRODUCT_CREATED,
        )
    return product


def product_update(*, actor: Actor, product: Product, **changes: Any) -> Product:
    """Change title, slug, description, status, category, attributes, vendor or tags."""
    with transaction.atomic():
        product = (
            Product.objects.select_for_update(of=("self",)).select_related("category").get(pk=product.pk)
        )
        before = product_snapshot(product)
        if "slug" in changes and Product.objects.filter(slug=changes["slug"]).exclude(pk=product.pk).exists():
            raise SlugTaken(
                f"A product already uses the slug {changes['slug']!r}.", errors={"slug": ["Already in use."]}
            )
        for name in ("title", "slug", "description", "status", "category", "attributes", "vendor", "tags"):
            if name in changes:
                setattr(product, name, changes[name])
        if "category" in changes or "attributes" in changes:
            attributes_check(product.attributes, product.category)
        product.save()
        after = product_snapshot(product)
        if after != before:
            catalog_change_record(
                actor=actor,
                action="product.updated",
                object_type="product",
                object_id=product.pk,
                before=before,
                after=after,
                products=[product.pk],
                slugs=[before["slug"]],
            )
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
        catalog_change_record(
            actor=actor,
            action="product.deleted",
            object_type="product",
            object_id=product_id,
            before=before,
            products=[product_id],
            event=EventType.PRODUCT_DELETED,
            slugs=[before["slug"]],
        )


# --- Variants and stock ----------------------------------------------------------


def variant_create(*, actor: Actor, product: Product, spec: VariantSpec) -> Variant:
    with transaction.atomic():
        position = product.variants.count()
        variant = _variant_add(product, spec, actor=actor, position=position)
        price_changes_record(changes=[(variant, None, variant.price)], changed_by=actor.label)
        catalog_change_record(
            actor=actor,
            action="variant.created",
            object_type="variant",
            object_id=variant.pk,
            after=variant_snapshot(variant),
            products=[product.pk],
        )
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
            price_changes_record(changes=[(variant, variant.price, price)], changed_by=actor.label)
            variant.price = price
        variant.save()
        if stock is not UNSET and stock != variant.stock:
            stock_change(
                variant,
                stock - variant.stock,
                reason=InventoryAdjustment.Reason.CORRECTION,
                note="Set through the variant",
                actor=actor,
            )
            variant.refresh_from_db(fields=["stock"])
        after = variant_snapshot(variant)
        if after != before:
            catalog_change_record(
                actor=actor,
                action="variant.updated",
                object_type="variant",
                object_id=variant.pk,
                before=before,
                after=after,
                products=[variant.product_id],
            )
    return variant


def variant_delete(*, actor: Actor, variant: Variant) -> None:
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=variant.product_id)
        if product.variants.count() <= 1:
            raise LastVariant("A product needs at least one variant; delete the product instead.")
        before = variant_snapshot(variant)
        variant.delete()
        catalog_change_record(
            actor=actor,
            action="variant.deleted",
            object_type="variant",
            object_id=before["id"],
            before=before,
            products=[product.pk],
        )
