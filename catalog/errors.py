"""Catalog refusals: each a DomainError with a stable code and the HTTP status it answers with."""

from enum import StrEnum

from tenants.errors import DomainError


class CatalogErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    SLUG_TAKEN = "slug_taken"
    SKU_TAKEN = "sku_taken"
    ATTRIBUTES_INVALID = "attributes_invalid"
    ATTRIBUTE_SCHEMA_INVALID = "attribute_schema_invalid"
    CATEGORY_CYCLE = "category_cycle"
    CATEGORY_HAS_CHILDREN = "category_has_children"
    LAST_VARIANT = "last_variant"
    INSUFFICIENT_STOCK = "insufficient_stock"
    VARIANT_UNAVAILABLE = "variant_unavailable"
    IMAGE_REFUSED = "image_refused"
    IMAGE_NOT_UPLOADED = "image_not_uploaded"
    IMAGE_ORDER_INVALID = "image_order_invalid"
    BULK_EDIT_INVALID = "bulk_edit_invalid"


class CatalogNotFound(DomainError):
    status = 404
    code = CatalogErrorCode.NOT_FOUND
    title = "Not found"


class SlugTaken(DomainError):
    status = 409
    code = CatalogErrorCode.SLUG_TAKEN
    title = "Slug already in use"


class SkuTaken(DomainError):
    status = 409
    code = CatalogErrorCode.SKU_TAKEN
    title = "SKU already in use"


class AttributesInvalid(DomainError):
    status = 400
    code = CatalogErrorCode.ATTRIBUTES_INVALID
    title = "Attributes do not match the category's schema"


class AttributeSchemaInvalid(DomainError):
    status = 400
    code = CatalogErrorCode.ATTRIBUTE_SCHEMA_INVALID
    title = "Not a valid JSON Schema"


class CategoryCycle(DomainError):
    status = 400
    code = CatalogErrorCode.CATEGORY_CYCLE
    title = "A category cannot be its own ancestor"


class CategoryHasChildren(DomainError):
    status = 409
    code = CatalogErrorCode.CATEGORY_HAS_CHILDREN
    title = "Category has subcategories"


class LastVariant(DomainError):
    status = 409
    code = CatalogErrorCode.LAST_VARIANT
    title = "A product needs at least one variant"


class InsufficientStock(DomainError):
    status = 409
    code = CatalogErrorCode.INSUFFICIENT_STOCK
    title = "Not enough stock"


class ImageRefused(DomainError):
    status = 400
    code = CatalogErrorCode.IMAGE_REFUSED
    title = "Image refused"


class ImageNotUploaded(DomainError):
    status = 409
    code = CatalogErrorCode.IMAGE_NOT_UPLOADED
    title = "Image not uploaded yet"


class ImageOrderInvalid(DomainError):
    status = 400
    code = CatalogErrorCode.IMAGE_ORDER_INVALID
    title = "Image order invalid"


class VariantUnavailable(DomainError):
    status = 409
    code = CatalogErrorCode.VARIANT_UNAVAILABLE
    title = "Item not for sale"


class BulkEditInvalid(DomainError):
    status = 400
    code = CatalogErrorCode.BULK_EDIT_INVALID
    title = "Bulk edit refused"
