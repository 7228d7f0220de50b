"""
The product CSV: Shopify's product columns, mapped onto what Storefleet has
(docs/bulk-data.md has the table). One row per variant; the rows of a product
share its Handle, and its first row carries the product's own fields. Rows with
only a Handle and an Image Src are Shopify's extra image rows. Image URLs are
checked for their form here; the import's worker downloads them
(catalog.image_fetch) before it writes.

Reading turns rows into ProductPlans (what the file asks for, every cell checked),
collecting row errors instead of stopping at the first; catalog.bulk writes the
plans through the catalog services.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_slug

from catalog.image_fetch import image_url_check
from catalog.models import MAX_TAGS, TAG_MAX_LENGTH, Category, Product, Variant
from tenants.conventions.csvfiles import CsvRow
from tenants.conventions.parsers import UNSTORABLE_CHARACTER
from tenants.money import MAX_AMOUNT, Money, parse_amount
from tenants.schemas import current_currency
from tenants.storage import object_url

HANDLE = "Handle"
TITLE = "Title"
BODY = "Body (HTML)"
VENDOR = "Vendor"
TYPE = "Type"
TAGS = "Tags"
OPTION_NAMES = ("Option1 Name", "Option2 Name", "Option3 Name")
OPTION_VALUES = ("Option1 Value", "Option2 Value", "Option3 Value")
SKU = "Variant SKU"
PRICE = "Variant Price"
COMPARE_AT = "Variant Compare At Price"
INVENTORY = "Variant Inventory Qty"
IMAGE_SRC = "Image Src"
IMAGE_POSITION = "Image Position"
IMAGE_ALT = "Image Alt Text"
STATUS = "Status"
# Storefleet's own columns, after Shopify's (Shopify ignores columns it does not know).
VARIANT_TITLE = "Variant Title"
ATTRIBUTES = "Attributes (JSON)"

COLUMNS = (
    HANDLE,
    TITLE,
    BODY,
    VENDOR,
    TYPE,
    TAGS,
    OPTION_NAMES[0],
    OPTION_VALUES[0],
    OPTION_NAMES[1],
    OPTION_VALUES[1],
    OPTION_NAMES[2],
    OPTION_VALUES[2],
    SKU,
    PRICE,
    COMPARE_AT,
    INVENTORY,
    IMAGE_SRC,
    IMAGE_POSITION,
    IMAGE_ALT,
    STATUS,
    VARIANT_TITLE,
    ATTRIBUTES,
)
REQUIRED = (HANDLE,)
CATEGORY_SEPARATOR = " > "

# The catalog's columns: prices are DecimalField(12, 3), stock an integer column.
MAX_PRICE = MAX_AMOUNT
MAX_STOCK = 2_147_483_647
MAX_ATTRIBUTES_CHARS = 10_000
MAX_IMAGE_URL = 2000
TAG_SEPARATOR = ","


@dataclass(frozen=True)
class RowError:
    line: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class VariantPlan:
    line: int
    sku: str
    price: Decimal | None
    compare_at_price: Decimal | None
    compare_at_given: bool
    stock: int | None
    options: dict[str, str]
    title: str | None


@dataclass(frozen=True)
class ImagePlan:
    line: int
    src: str
    position: int | None
    alt: str


@dataclass
class ProductPlan:
    """What the file says about one product (None: the file leaves it as it is)."""

    handle: str
    line: int
    title: str | None = None
    description: str | None = None
    status: str | None = None
    category_path: list[str] | None = None
    attributes: dict[str, Any] | None = None
    vendor: str | None = None
    tags: list[str] | None = None
    variants: list[VariantPlan] = field(default_factory=list)
    images: list[ImagePlan] = field(default_factory=list)
    lines: int = 0
    refused: bool = False  # a row of it has an error already


class _RowRefused(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _text(row: CsvRow, column: str, *, max_length: int) -> str:
    value = row.get(column)
    if UNSTORABLE_CHARACTER.search(value):
        raise _RowRefused(column, "Holds a character that cannot be stored.")
    if len(value) > max_length:
        raise _RowRefused(column, f"At most {max_length} characters.")
    return value


def _decimal(row: CsvRow, column: str) -> Decimal | None:
    raw = row.get(column)
    if not raw:
        return None
    try:
        value = parse_amount(raw, current_currency())
    except ValueError as error:
        raise _RowRefused(column, str(error)) from None
    if value < 0 or value > MAX_PRICE:
        raise _RowRefused(column, f"Must be from 0 to {MAX_PRICE}.")
    return value


def _amount(value: Decimal | None) -> str:
    """A stored price as the shop's currency writes it ("35.00", not "35.000")."""
    return "" if value is None else str(Money(value, current_currency()).amount)


def _stock(row: CsvRow) -> int | None:
    raw = row.get(INVENTORY)
    if not raw:
        return None
    if len(raw) > 12 or not raw.lstrip("-").isdigit():
        raise _RowRefused(INVENTORY, f"{raw[:20]!r} is not a whole number.")
    value = int(raw)
    if not 0 <= value <= MAX_STOCK:
        raise _RowRefused(INVENTORY, f"Must be from 0 to {MAX_STOCK}.")
    return value


def _options(row: CsvRow, names: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for index, value_column in enumerate(OPTION_VALUES):
        value = _text(row, value_column, max_length=255)
        name = _text(row, OPTION_NAMES[index], max_length=255) or (names[index] if index < len(names) else "")
        if value and not name:
            raise _RowRefused(OPTION_NAMES[index], "A value needs its option's name.")
        if value:
            options[name] = value
    return options


def tags_normalise(tags: list[str]) -> list[str]:
    """Tags as stored: trimmed, without blanks or repeats, in their order; ValueError if unfit."""
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or tag in cleaned:
            continue
        if TAG_SEPARATOR in tag or UNSTORABLE_CHARACTER.search(tag) or len(tag) > TAG_MAX_LENGTH:
            raise ValueError(f"Tags of at most {TAG_MAX_LENGTH} characters, without commas.")
        cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"At most {MAX_TAGS} tags.")
    return cleaned


def _image(row: CsvRow) -> ImagePlan | None:
    src = _text(row, IMAGE_SRC, max_length=MAX_IMAGE_URL).strip()
    if not src:
        return None
    if problem := image_url_check(src):
        raise _RowRefused(IMAGE_SRC, problem)
    raw = row.get(IMAGE_POSITION)
    if raw and (len(raw) > 6 or not raw.isdigit() or int(raw) < 1):
        raise _RowRefused(IMAGE_POSITION, "A whole number from 1.")
    return ImagePlan(
        line=row.line,
        src=src,
        position=int(raw) if raw else None,
        alt=_text(row, IMAGE_ALT, max_length=255),
    )


def _product_fields(plan: ProductPlan, row: CsvRow) -> None:
    if title := _text(row, TITLE, max_length=255):
        plan.title = title
    if vendor := _text(row, VENDOR, max_length=255).strip():
        plan.vendor = vendor
    if row.get(TAGS).strip():
        try:
            plan.tags = tags_normalise(_text(row, TAGS, max_length=10_000).split(TAG_SEPARATOR))
        except ValueError as error:
            raise _RowRefused(TAGS, str(error)) from None
    if row.get(BODY):
        plan.description = _text(row, BODY, max_length=100_000)
    if status := row.get(STATUS).lower():
        if status not in Product.Status.values:
            raise _RowRefused(STATUS, f"One of {', '.join(Product.Status.values)}.")
        plan.status = status
    if category := _text(row, TYPE, max_length=1000):
        names = [name.strip() for name in category.split(CATEGORY_SEPARATOR.strip())]
        if any(not name or len(name) > 120 for name in names):
            raise _RowRefused(TYPE, "Category names of 1 to 120 characters, separated by ' > '.")
        plan.category_path = names
    if raw := row.get(ATTRIBUTES):
        if len(raw) > MAX_ATTRIBUTES_CHARS:
            raise _RowRefused(ATTRIBUTES, f"At most {MAX_ATTRIBUTES_CHARS} characters.")
        try:
            attributes = json.loads(raw, parse_constant=_no_constant)
        except ValueError:
            raise _RowRefused(ATTRIBUTES, "Not a JSON object.") from None
        if not isinstance(attributes, dict) or UNSTORABLE_CHARACTER.search(raw):
            raise _RowRefused(ATTRIBUTES, "Not a JSON object that can be stored.")
        plan.attributes = attributes


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _is_image_row(row: CsvRow) -> bool:
    """Shopify's extra image rows: a Handle and image columns, nothing of a variant."""
    return not any(row.get(column) for column in (SKU, PRICE, INVENTORY, COMPARE_AT, *OPTION_VALUES))


def plans_read(rows: list[CsvRow]) -> tuple[list[ProductPlan], list[RowError]]:
    """Group rows by Handle into product plans, checking every cell; return the plans and every row error."""
    plans: dict[str, ProductPlan] = {}
    option_names: dict[str, list[str]] = {}
    errors: list[RowError] = []
    skus: dict[str, int] = {}
    for row in rows:
        handle = row.get(HANDLE).lower()
        try:
            if not handle:
                raise _RowRefused(HANDLE, "Every row needs a Handle.")
            try:
                validate_slug(handle)
            except DjangoValidationError:
                raise _RowRefused(HANDLE, "Letters, digits, hyphens and underscores only.") from None
            if len(handle) > 255:
                raise _RowRefused(HANDLE, "At most 255 characters.")
            plan = plans.get(handle)
            if plan is None:
                plan = plans[handle] = ProductPlan(handle=handle, line=row.line)
                names = [_text(row, column, max_length=255) for column in OPTION_NAMES]
                option_names[handle] = names
                _product_fields(plan, row)
            plan.lines += 1
            image = _image(row)
            if image is not None and all(known.src != image.src for known in plan.images):
                plan.images.append(image)
            if plan.line != row.line and _is_image_row(row):
                continue
            sku = _text(row, SKU, max_length=64)
            if not sku:
                raise _RowRefused(SKU, "Storefleet needs a SKU on every variant.")
            if sku in skus:
                raise _RowRefused(SKU, f"{sku!r} is also on line {skus[sku]}.")
            skus[sku] = row.line
            plan.variants.append(
                VariantPlan(
                    line=row.line,
                    sku=sku,
                    price=_decimal(row, PRICE),
                    compare_at_price=_decimal(row, COMPARE_AT),
                    compare_at_given=bool(row.get(COMPARE_AT)),
                    stock=_stock(row),
                    options=_options(row, option_names[handle]),
                    title=_text(row, VARIANT_TITLE, max_length=255) if VARIANT_TITLE in row.cells else None,
                )
            )
        except _RowRefused as refused:
            errors.append(RowError(row.line, refused.column, refused.message))
            if handle in plans:
                plans[handle].refused = True
    return list(plans.values()), errors


# --- Writing ---------------------------------------------------------------------


def category_path_names(category: Category | None, by_id: dict[int, Category]) -> str:
    """A category as the Type column writes it: its names from the root, joined with ' > '."""
    if category is None:
        return ""
    ids = [int(part) for part in category.path.strip("/").split("/") if part]
    return CATEGORY_SEPARATOR.join(by_id[node].name for node in ids if node in by_id)


def _option_cells(options: dict[str, str]) -> list[str]:
    cells: list[str] = []
    items = list(options.items())[:3]
    for index in range(3):
        name, value = items[index] if index < len(items) else ("", "")
        cells += [name, value]
    return cells


def product_rows(product: Product, by_id: dict[int, Category]) -> Iterator[list[object]]:
    """The CSV rows of one product (variants and images prefetched): one a variant, then extra images."""
    variants: list[Variant] = list(product.variants.all())
    images = [image for image in product.images.all() if image.status == image.Status.READY]
    for index, variant in enumerate(variants):
        first = index == 0
        image = images[0] if first and images else None
        yield [
            product.slug,
            product.title if first else "",
            product.description if first else "",
            product.vendor if first else "",
            category_path_names(product.category, by_id) if first else "",
            f"{TAG_SEPARATOR} ".join(product.tags) if first else "",
            *_option_cells(variant.options),
            variant.sku,
            _amount(variant.price),
            _amount(variant.compare_at_price),
            variant.stock,
            object_url(image.key) if image else "",
            1 if image else "",
            image.alt if image else "",
            product.status if first else "",
            variant.title,
            json.dumps(product.attributes, ensure_ascii=False, sort_keys=True)
            if first and product.attributes
            else "",
        ]
    for position, image in enumerate(images[1:], start=2):
        row: list[object] = [product.slug, *([""] * (len(COLUMNS) - 1))]
        row[COLUMNS.index(IMAGE_SRC)] = object_url(image.key)
        row[COLUMNS.index(IMAGE_POSITION)] = position
        row[COLUMNS.index(IMAGE_ALT)] = image.alt
        yield row
