"""
A shop's catalog, in the shop's schema: categories (a tree), products, their
variants (what is actually sold and stocked), images, the inventory ledger,
price history, and the search documents the storefront lists from.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q


def price_field(**kwargs: object) -> models.DecimalField:
    """Prices: up to 999,999,999 with three decimal places (enough for KWD or BHD)."""
    return models.DecimalField(max_digits=12, decimal_places=3, **kwargs)  # type: ignore[arg-type]


TAG_MAX_LENGTH = 64
MAX_TAGS = 50


class Category(models.Model):
    """A node of the category tree; `attribute_schema` (JSON Schema) governs its products' attributes."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of ids ("/3/7/"), so "this category and its descendants" is one index range scan.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    attribute_schema = models.JSONField(null=True, blank=True)
    # The schema's property names in the order the merchant wrote them: jsonb keeps an
    # object's keys sorted its own way, and the storefront lists attributes in this order.
    attribute_order = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path", "position", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def attribute_schema_ordered(self) -> dict[str, Any] | None:
        """The schema with its properties back in the order they were written."""
        schema = self.attribute_schema
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            return schema
        rank = {key: position for position, key in enumerate(self.attribute_order or [])}
        ordered = sorted(properties.items(), key=lambda item: rank.get(item[0], len(rank)))
        return {**schema, "properties": dict(ordered)}  # type: ignore[dict-item]


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        ARCHIVED = "archived"

    title = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    attributes = models.JSONField(default=dict, blank=True)
    vendor = models.CharField(max_length=255, blank=True, default="", db_default="")
    # Short labels (Shopify's Tags); an array with a GIN index, so `tags @> '{sale}'` is an index scan.
    tags = ArrayField(models.CharField(max_length=TAG_MAX_LENGTH), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            GinIndex(fields=["tags"], name="product_tags_gin"),
            models.Index(fields=["vendor"], name="product_vendor_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    """A purchasable version of a product (a size, a colour) with its own SKU, price and stock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M", "colour": "blue"}')
    price = price_field()
    compare_at_price = price_field(null=True, blank=True)
    stock = models.IntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    # What one unit weighs packed, for weight-based shipping rates (orders.pricing).
    weight_grams = models.PositiveIntegerField(default=0, db_default=0)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_price__gte=0), name="variant_compare_at_not_negative"
            ),
            # Checkout reserves stock with a conditional UPDATE; this is the last line against overselling.
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return self.sku


class PriceChange(models.Model):
    """A variant's price history: when it changed, from what, to what, by whom."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="price_changes")
    old_price = price_field(null=True)
    new_price = price_field()
    changed_by = models.CharField(max_length=255)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.variant_id}: {self.old_price} -> {self.new_price}"


class VariantPriceDay(models.Model):
    """
    A variant's prices over one day (UTC): the lowest and highest it had that day
    (the price it opened with included) and the one it closed with, in the shop's
    currency then. Materialised from its price changes by the worker
    (catalog.price_history); only days with a change have a row, a day without
    one keeps the previous day's close.
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="price_days")
    day = models.DateField()
    low = price_field()
    high = price_field()
    close = price_field()
    currency = models.CharField(max_length=3)
    changes = models.PositiveIntegerField(help_text="How many price changes the day had.")
    # The newest change the row was computed with: a late recomputation never replaces a newer one.
    last_change_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "day"], name="variant_price_day_unique")]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.day}: {self.low}..{self.high}, closed {self.close}"


class InventoryAdjustment(models.Model):
    """The stock ledger: every change to a variant's stock, with its reason."""

    class Reason(models.TextChoices):
        RECEIVED = "received"
        CORRECTION = "correction"
        DAMAGED = "damaged"
        RETURNED = "returned"
        SOLD = "sold"
        RESTOCKED = "restocked"
        INITIAL = "initial"

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="adjustments")
    delta = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    actor_label = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.delta:+d} ({self.reason})"


class ProductImage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # upload URL handed out, object not confirmed yet
        READY = "ready"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    key = models.CharField(max_length=500, help_text="Object-storage key of the original.")
    thumbnail_key = models.CharField(max_length=500, blank=True)
    # The responsive widths the worker made ([{"key", "width", "height"}], narrowest first).
    # A JSON list, not rows of their own: always read and written whole with the image,
    # never queried by width, and the storefront's pages read them without another query.
    renditions = models.JSONField(default=list, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(null=True)
    alt = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.key

    def derived_keys(self) -> list[str]:
        """The objects the worker made from the original: its thumbnail and its widths."""
        keys = [str(rendition["key"]) for rendition in self.renditions or []]
        return [self.thumbnail_key, *keys] if self.thumbnail_key else keys


class SearchDocument(models.Model):
    """
    What the storefront lists and searches: one row per active product, kept by a
    worker from product events. Denormalised (price range, stock, category path)
    so a filtered, sorted, faceted listing reads one table.
    """

    product = models.OneToOneField(Product, primary_key=True, on_delete=models.CASCADE, related_name="search")
    title = models.CharField(max_length=255)
    category_id = models.BigIntegerField(null=True)
    category_path = models.CharField(max_length=255, blank=True)
    min_price = price_field()
    max_price = price_field()
    in_stock = models.BooleanField()
    product_created_at = models.DateTimeField()
    search_vector = SearchVectorField()
    refreshed_at = models.DateTimeField(auto_now=True)
    # The product as the storefront shows it (StorefrontProductOutput's JSON), rendered
    # when the document is refreshed, and what that rendering assumed (catalog.rendering).
    storefront_json = models.TextField(blank=True, db_default="")
    rendering_key = models.CharField(max_length=64, blank=True, db_default="")

    class Meta:
        indexes = [
            GinIndex(fields=["search_vector"], name="search_vector_gin"),
            models.Index(fields=["min_price", "product"], name="search_price_idx"),
            models.Index(fields=["product_created_at", "product"], name="search_created_idx"),
            models.Index(fields=["category_path"], name="search_category_path_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProductImport(models.Model):
    """
    A product CSV file being imported by a worker (catalog.bulk): checked row by
    row, then written all at once or not at all. A dry run stops after the check.
    While it runs, its progress lives in Redis (catalog.bulk.progress_*), since the
    write is one transaction that nobody else can see into.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"  # written, or (dry run) found valid
        FAILED = "failed"  # row errors (nothing written), or the worker gave up

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dry_run = models.BooleanField(default=False)
    filename = models.CharField(max_length=255)
    key = models.CharField(max_length=500, help_text="Object-storage key of the uploaded file.")
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    variants_created = models.PositiveIntegerField(default=0)
    variants_updated = models.PositiveIntegerField(default=0)
    # [{"line": 3, "column": "Variant Price", "message": "..."}]; at most IMPORT_MAX_ERRORS.
    errors = models.JSONField(default=list, blank=True)
    # Who asked (tenants.audit Actor fields), as the worker writes in their name.
    requested_by = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.id} ({self.status})"


class CsvExport(models.Model):
    """A CSV file of the shop's products or orders, written by a worker to object storage."""

    class Kind(models.TextChoices):
        PRODUCTS = "products"
        ORDERS = "orders"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What was asked for: {"from": "2026-01-01", "to": "2026-01-31"} for orders.
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} export {self.id} ({self.status})"
