"""Small input and output serializers of the catalog's Admin and Storefront APIs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.attributes import product_attributes_shown
from catalog.models import MAX_TAGS, TAG_MAX_LENGTH, InventoryAdjustment, Product, ProductImage
from catalog.price_history import MAX_DAYS
from catalog.product_csv import tags_normalise
from catalog.rendering import renditions_json
from catalog.selectors import PRODUCT_ORDERINGS
from tenants.conventions.fields import (
    DayRangeQuery,
    NullableJSONObjectField,
    OrderingField,
    StrictCharField,
    StrictRegexField,
)
from tenants.conventions.money import AmountInputField, RecordMoneyField, ShopMoneyField
from tenants.storage import object_url

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class OptionsField(serializers.DictField):
    """Variant options such as {"size": "M"}: a few short string pairs."""

    child = StrictCharField(max_length=100)

    def to_internal_value(self, data: object) -> dict[str, str]:
        value = super().to_internal_value(data)  # type: ignore[arg-type]
        if len(value) > 10 or any(len(key) > 50 for key in value):
            raise serializers.ValidationError("At most 10 options with names of up to 50 characters.")
        return value


class AttributesField(serializers.JSONField):
    def to_internal_value(self, data: object) -> dict[str, object]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        if len(str(data)) > 20_000:
            raise serializers.ValidationError("Too large (at most about 20 kB).")
        return data


class TagsField(serializers.ListField):
    """A product's tags: short labels without commas (the CSV's Tags column joins them with ", ")."""

    child = StrictCharField(max_length=TAG_MAX_LENGTH)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_length=MAX_TAGS, **kwargs)  # type: ignore[arg-type]

    def to_internal_value(self, data: object) -> list[str]:
        value = super().to_internal_value(data)  # type: ignore[arg-type]
        try:
            return tags_normalise(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


# --- Input ---------------------------------------------------------------------------


class VariantInput(serializers.Serializer):
    sku = StrictCharField(max_length=64)
    title = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    options = OptionsField(required=False, default=dict)
    price = AmountInputField()
    compare_at_price = AmountInputField(required=False, allow_null=True, default=None)
    stock = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, default=0)
    low_stock_threshold = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, default=5
    )
    weight_grams = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, default=0, help_text="One unit, packed."
    )


class VariantUpdateInput(serializers.Serializer):
    sku = StrictCharField(max_length=64, required=False)
    title = StrictCharField(max_length=255, required=False, allow_blank=True)
    options = OptionsField(required=False)
    price = AmountInputField(required=False)
    compare_at_price = AmountInputField(required=False, allow_null=True)
    stock = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    weight_grams = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)


class ProductInput(serializers.Serializer):
    title = StrictCharField(max_length=255)
    slug = StrictRegexField(SLUG_RE, max_length=255, required=False)
    description = StrictCharField(max_length=20_000, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=Product.Status.choices, required=False, default=Product.Status.DRAFT
    )
    category = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    attributes = AttributesField(required=False, default=dict)
    vendor = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    tags = TagsField(required=False, default=list)
    variants = VariantInput(many=True, allow_empty=False, min_length=1, max_length=100)  # type: ignore[call-arg]


class ProductUpdateInput(serializers.Serializer):
    title = StrictCharField(max_length=255, required=False)
    slug = StrictRegexField(SLUG_RE, max_length=255, required=False)
    description = StrictCharField(max_length=20_000, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    category = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    attributes = AttributesField(required=False)
    vendor = StrictCharField(max_length=255, required=False, allow_blank=True)
    tags = TagsField(required=False)


class CategoryInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    slug = StrictRegexField(SLUG_RE, max_length=140, required=False)
    parent = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)  # type: ignore[assignment]
    attribute_schema = NullableJSONObjectField(required=False, default=None)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, default=0)


class CategoryUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    slug = StrictRegexField(SLUG_RE, max_length=140, required=False)
    parent = serializers.IntegerField(min_value=1, required=False, allow_null=True)  # type: ignore[assignment]
    attribute_schema = NullableJSONObjectField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


class CategoryDeleteQuery(serializers.Serializer):
    reassign_to = serializers.IntegerField(min_value=1, max_value=2**62, required=False)


class CategoryReorderInput(serializers.Serializer):
    parent = serializers.IntegerField(
        min_value=1, max_value=2**62, allow_null=True, help_text="Null: top level."
    )  # type: ignore[assignment]
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        max_length=1000,
        help_text="The ids of every subcategory of `parent`, in their new order.",
    )


class InventoryAdjustmentInput(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    delta = serializers.IntegerField(min_value=-10_000_000, max_value=10_000_000)
    reason = serializers.ChoiceField(
        choices=[c for c in InventoryAdjustment.Reason.choices if c[0] != "initial"]
    )
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


# --- Output --------------------------------------------------------------------------


class RenditionOutput(serializers.Serializer):
    """One stored width of a picture."""

    url = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="The original; null until the upload is confirmed.")
    thumbnail_url = serializers.SerializerMethodField(help_text="At most 400×400 (WebP); null until made.")
    renditions = serializers.SerializerMethodField(
        help_text="The picture at several widths (WebP, narrowest first, never wider than the original), "
        "for `srcset`; empty until the worker has made them.",
    )
    alt = serializers.CharField()
    position = serializers.IntegerField()
    status = serializers.CharField()

    def get_url(self, image: ProductImage) -> str | None:
        return object_url(image.key) if image.status == ProductImage.Status.READY else None

    def get_thumbnail_url(self, image: ProductImage) -> str | None:
        return object_url(image.thumbnail_key) if image.thumbnail_key else None

    @extend_schema_field(RenditionOutput(many=True))
    def get_renditions(self, image: ProductImage) -> list[dict[str, Any]]:
        return renditions_json(image.renditions)


class ImageUploadInput(serializers.Serializer):
    filename = StrictCharField(max_length=255)
    content_type = StrictCharField(
        max_length=100, help_text="image/jpeg, image/png, image/webp or image/gif."
    )
    size = serializers.IntegerField(
        min_value=1, required=False, help_text="Bytes, if known: refused early if too big."
    )
    alt = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class ImageUpdateInput(serializers.Serializer):
    alt = StrictCharField(
        max_length=255, required=False, allow_blank=True, help_text="What the image shows, in words."
    )


class ImageReorderInput(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=500,
        help_text="Image ids, first shown first; images not listed keep their order after them.",
    )


class UploadFormOutput(serializers.Serializer):
    method = serializers.CharField(
        help_text="`POST` (a multipart form, S3) or `PUT` (the bytes as the body)."
    )
    url = serializers.CharField()
    headers = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="PUT: send these headers with the bytes as the body.",
    )
    # The metaclass moves declared fields off the class, so this does not shadow Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.CharField(),
        required=False,
        help_text="POST: a multipart form of these fields, then the file as the last field, `file`.",
    )
    expires_at = serializers.DateTimeField()


class ImageUploadOutput(ImageOutput):
    """A pending image and how to upload its bytes (the form is given as context["upload"])."""

    filename = serializers.CharField()
    content_type = serializers.CharField()
    upload = serializers.SerializerMethodField()

    @extend_schema_field(UploadFormOutput)
    def get_upload(self, image: ProductImage) -> dict[str, object]:
        return UploadFormOutput(self.context["upload"]).data


class VariantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    title = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    price = ShopMoneyField()
    compare_at_price = ShopMoneyField(allow_null=True)
    stock = serializers.IntegerField()
    low_stock_threshold = serializers.IntegerField()
    weight_grams = serializers.IntegerField()


class CategoryRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Product.Status.choices)
    category = CategoryRefOutput(allow_null=True)
    attributes = serializers.DictField()
    vendor = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    variants = VariantOutput(many=True, source="variants.all")
    images = ImageOutput(many=True, source="images.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    attribute_schema = NullableJSONObjectField(source="attribute_schema_ordered")
    position = serializers.IntegerField()


class InventoryItemOutput(serializers.Serializer):
    variant = serializers.IntegerField(source="id")
    sku = serializers.CharField()
    product = serializers.IntegerField(source="product_id")
    product_title = serializers.CharField(source="product.title")
    stock = serializers.IntegerField()
    low_stock_threshold = serializers.IntegerField()
    low_stock = serializers.SerializerMethodField()

    def get_low_stock(self, variant: object) -> bool:
        return bool(variant.stock <= variant.low_stock_threshold)  # type: ignore[attr-defined]


class InventoryAdjustmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant_id")
    sku = serializers.CharField(source="variant.sku")
    delta = serializers.IntegerField()
    stock_after = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    created_at = serializers.DateTimeField()


class AuditEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    actor_type = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    before = NullableJSONObjectField()
    after = NullableJSONObjectField()
    created_at = serializers.DateTimeField()


# --- Storefront ------------------------------------------------------------------------


class StorefrontVariantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    title = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    price = ShopMoneyField()
    compare_at_price = ShopMoneyField(allow_null=True)
    in_stock = serializers.SerializerMethodField()

    def get_in_stock(self, variant: object) -> bool:
        return bool(variant.stock > 0)  # type: ignore[attr-defined]


class AttributeShownOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(  # type: ignore[assignment]  # a field of the output, not Field.label
        help_text="The category schema's `title`, or the key made readable."
    )
    value = serializers.CharField(help_text="Choices by their titles, booleans as Yes/No, lists joined.")


class StorefrontProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    category = CategoryRefOutput(allow_null=True)
    attributes = serializers.DictField()
    vendor = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    attributes_shown = serializers.SerializerMethodField(
        help_text="The attributes as the product page lists them, in the category schema's order."
    )
    variants = StorefrontVariantOutput(many=True, source="variants.all")
    images = ImageOutput(many=True, source="images.all")

    @extend_schema_field(AttributeShownOutput(many=True))
    def get_attributes_shown(self, product: Product) -> list[dict[str, str]]:
        return product_attributes_shown(product)


class StorefrontCategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    children = serializers.ListField(child=serializers.DictField())


class FacetCategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class FacetPriceBandOutput(serializers.Serializer):
    min = serializers.CharField()
    max = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class FacetsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    in_stock = serializers.IntegerField()
    categories = FacetCategoryOutput(many=True)
    price_bands = FacetPriceBandOutput(many=True)


@extend_schema_field(
    {
        "type": "string",
        "format": "uri-reference",
        "examples": ["/api/storefront/v1/products?cursor=cD0yMDI2LTEyLTA0&q=mug"],
    }
)
class PageLinkField(serializers.CharField):
    """A neighbouring page as a relative reference (path and query), resolved against the shop's host."""


class StorefrontProductPageOutput(serializers.Serializer):
    results = StorefrontProductOutput(many=True)
    next = PageLinkField(
        allow_null=True,
        help_text="The next page as a relative reference (path and query, no scheme or host): resolve it "
        "against the host you called. Null on the last page.",
    )
    previous = PageLinkField(
        allow_null=True, help_text="The previous page, as `next` writes it. Null on the first page."
    )
    facets = FacetsOutput()


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: `true`/`false` (and 1/0); left out, it is None. `?x=null` is refused."""

    NULL_VALUES: set[str | None] = set()

    def __init__(self, **kwargs: object) -> None:
        super().__init__(required=False, allow_null=True, default=None, **kwargs)  # type: ignore[arg-type]


class StorefrontListQuery(serializers.Serializer):
    q = StrictCharField(max_length=200, required=False, allow_blank=True)
    category = StrictRegexField(SLUG_RE, max_length=140, required=False)
    min_price = AmountInputField(required=False)
    max_price = AmountInputField(required=False)
    in_stock = QueryBooleanField()
    ordering = serializers.ChoiceField(choices=["price", "-price", "-created", "relevance"], required=False)
    # `limit` and `cursor` follow the rules every list shares (tenants.conventions.pagination).


PRODUCT_ORDERING_DEFAULT = "-created_at"


class AdminProductQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    category = serializers.IntegerField(min_value=1, required=False, source="category_id")
    q = StrictCharField(max_length=200, required=False)
    tag = StrictCharField(max_length=TAG_MAX_LENGTH, required=False)
    vendor = StrictCharField(max_length=255, required=False)
    ordering = OrderingField(PRODUCT_ORDERINGS, default=PRODUCT_ORDERING_DEFAULT)


class InventoryQuery(serializers.Serializer):
    low_stock = serializers.BooleanField(required=False, default=False)


class AdjustmentQuery(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1, required=False)


class AuditQuery(DayRangeQuery):
    object_type = StrictCharField(max_length=32, required=False)
    object_id = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    actor = StrictCharField(max_length=255, required=False)
    action = StrictCharField(max_length=64, required=False)


# --- Price history -------------------------------------------------------------------

# The range read when none is asked for: the last 90 days, today included.
PRICE_HISTORY_DEFAULT_DAYS = 90


class PriceHistoryQuery(DayRangeQuery):
    """`from`/`to` (UTC days, both included; by default the last 90 days) and an optional `variant`."""

    day_range_prefix = "day"
    variant = serializers.IntegerField(min_value=1, max_value=2**62, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        day_to = attrs.setdefault("day_to", timezone.now().date())
        day_from = attrs.setdefault("day_from", day_to - timedelta(days=PRICE_HISTORY_DEFAULT_DAYS - 1))
        if day_from > day_to:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (day_to - day_from).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"to": [f"At most {MAX_DAYS} days from `from`."]})
        return attrs


class PriceDayOutput(serializers.Serializer):
    date = serializers.DateField(source="day", help_text="The day (UTC).")
    min = RecordMoneyField(source="low", help_text="The lowest price that day, the opening price included.")
    max = RecordMoneyField(source="high", help_text="The highest price that day, the opening price included.")
    close = RecordMoneyField(help_text="The price at the end of the day.")
    changes = serializers.IntegerField(help_text="How many times the price changed that day.")


class VariantPriceHistoryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="variant.id")
    sku = serializers.CharField(source="variant.sku")
    title = serializers.CharField(source="variant.title")
    opening = PriceDayOutput(
        allow_null=True,
        help_text="The last day with a change before `from` (null if none): its close is the price "
        "the range opens with.",
    )
    days = PriceDayOutput(
        many=True,
        help_text="Days with a price change, oldest first. A day that is not listed kept the "
        "previous day's close.",
    )


class PriceHistoryOutput(serializers.Serializer):
    product = serializers.IntegerField()
    date_from = serializers.DateField(help_text="The first day of the range (UTC).")
    date_to = serializers.DateField(help_text="The last day of the range (UTC), included.")
    variants = VariantPriceHistoryOutput(many=True)
