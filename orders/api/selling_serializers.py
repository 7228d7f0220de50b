"""Input and output serializers of shipping zones, taxes, discounts, and the cart's choices."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.countries import COUNTRY_CODES, region_valid
from orders.models import Discount, ShippingMethod
from orders.pricing import rate_text
from tenants.conventions.fields import StrictBooleanField, StrictCharField, StrictRegexField
from tenants.conventions.money import AmountInputField, MoneyField, ShopMoneyField
from tenants.money import Money

MAX_ID = 2**62


def country_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=COUNTRY_CODES, help_text="ISO 3166-1 alpha-2, e.g. DE.", **kwargs)


@extend_schema_field({"type": "string", "pattern": r"^\d{1,3}(\.\d{1,4})?$", "examples": ["19", "5.5"]})
class RateInputField(serializers.Field):
    """A tax rate in percent as a decimal string ("19", "5.5", "8.875"), 0 to 100, four decimals at most."""

    default_error_messages = {
        "invalid": 'A rate is a decimal string in percent, 0 to 100, e.g. "19" or "5.5".'
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or len(data) > 12:
            self.fail("invalid")
        try:
            rate = Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        if not rate.is_finite() or not 0 <= rate <= 100 or rate.as_tuple().exponent < -4:  # type: ignore[operator]
            self.fail("invalid")
        return rate

    def to_representation(self, value: Any) -> str:
        return str(value)


class RateOutputField(serializers.CharField):
    """A rate in percent as its shortest decimal string ("19", "5.5")."""

    def to_representation(self, value: Any) -> str:
        return rate_text(Decimal(value))


# --- Shipping zones -----------------------------------------------------------------------


class WeightBandInput(serializers.Serializer):
    up_to_grams = serializers.IntegerField(min_value=1, max_value=10_000_000)
    price = AmountInputField()


class ShippingMethodInput(serializers.Serializer):
    id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Keep (and change) this existing method."
    )
    name = StrictCharField(max_length=100)
    rate_type = serializers.ChoiceField(choices=ShippingMethod.RateType.choices, default="flat")
    price = AmountInputField(required=False, default=Decimal(0), help_text="The flat rate.")
    free_over = AmountInputField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Free when the discounted subtotal reaches this.",
    )
    weight_bands = WeightBandInput(many=True, required=False, default=list, max_length=20)  # type: ignore[call-arg]
    min_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, allow_null=True, default=None
    )
    max_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, allow_null=True, default=None
    )
    pickup = StrictBooleanField(required=False, default=False, help_text="Collected by the shopper.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["rate_type"] == "weight" and not attrs["weight_bands"]:
            raise serializers.ValidationError({"weight_bands": ["A weight-based method needs its bands."]})
        grams = [band["up_to_grams"] for band in attrs["weight_bands"]]
        if len(set(grams)) != len(grams):
            raise serializers.ValidationError({"weight_bands": ["Each band needs its own up_to_grams."]})
        low, high = attrs.get("min_days"), attrs.get("max_days")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_days": ["At most max_days."]})
        return attrs


class ShippingZoneUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    countries = serializers.ListField(child=country_field(), min_length=1, max_length=250, required=False)
    postal_code_prefixes = serializers.ListField(
        child=StrictRegexField(r"^[A-Za-z0-9 -]{1,20}$"), max_length=500, required=False
    )
    methods = ShippingMethodInput(many=True, required=False, max_length=20)  # type: ignore[call-arg]

    def validate_methods(self, methods: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [method["id"] for method in methods if "id" in method]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("A method id appears twice.")
        return methods


class ShippingZoneInput(ShippingZoneUpdateInput):
    name = StrictCharField(max_length=100)
    countries = serializers.ListField(child=country_field(), min_length=1, max_length=250)


class WeightBandOutput(serializers.Serializer):
    up_to_grams = serializers.IntegerField()
    price = ShopMoneyField()


class ShippingMethodOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    rate_type = serializers.ChoiceField(choices=ShippingMethod.RateType.choices)
    price = ShopMoneyField()
    free_over = ShopMoneyField(allow_null=True)
    weight_bands = WeightBandOutput(many=True)
    min_days = serializers.IntegerField(allow_null=True)
    max_days = serializers.IntegerField(allow_null=True)
    pickup = serializers.BooleanField()


class ShippingZoneOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    countries = serializers.ListField(child=serializers.CharField())
    postal_code_prefixes = serializers.ListField(child=serializers.CharField())
    methods = ShippingMethodOutput(many=True, source="methods.all")


# --- Taxes ----------------------------------------------------------------------------------


class TaxRateInput(serializers.Serializer):
    country = country_field()
    region = StrictRegexField(
        r"^[A-Z0-9]{0,3}$", required=False, allow_blank=True, default="",
        help_text="ISO 3166-2 subdivision, the part after the dash (CA of US-CA).",
    )  # fmt: skip
    rate = RateInputField()
    name = StrictCharField(max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["region"] and not region_valid(attrs["country"], attrs["region"]):
            raise serializers.ValidationError({"region": [f"Not a region of {attrs['country']}."]})
        return attrs


class CategoryRateInput(serializers.Serializer):
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    country = country_field()
    rate = RateInputField()
    name = StrictCharField(max_length=100)


class TaxesInput(serializers.Serializer):
    prices_include_tax = StrictBooleanField(
        help_text="Prices are entered with tax included (tax is extracted)."
    )
    shipping_taxable = StrictBooleanField()
    default_rate = RateInputField(help_text="Percent, where no country rate applies.")
    rates = TaxRateInput(many=True, max_length=500)  # type: ignore[call-arg]
    category_overrides = CategoryRateInput(many=True, max_length=500)  # type: ignore[call-arg]

    def to_internal_value(self, data: Any) -> Any:
        # A PUT replaces every setting: a field it does not know is a mistake, not something to drop.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Not a setting of taxes."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        places = [(r["country"], r["region"]) for r in attrs["rates"]]
        if len(set(places)) != len(places):
            raise serializers.ValidationError({"rates": ["One rate per country (and region)."]})
        pairs = [(o["category"], o["country"]) for o in attrs["category_overrides"]]
        if len(set(pairs)) != len(pairs):
            raise serializers.ValidationError(
                {"category_overrides": ["One override per category and country."]}
            )
        return attrs


class TaxRateOutput(serializers.Serializer):
    country = serializers.CharField()
    region = serializers.CharField()
    rate = serializers.CharField()
    name = serializers.CharField()


class CategoryRateOutput(serializers.Serializer):
    category = serializers.IntegerField()
    country = serializers.CharField()
    rate = serializers.CharField()
    name = serializers.CharField()


class TaxesOutput(serializers.Serializer):
    prices_include_tax = serializers.BooleanField()
    shipping_taxable = serializers.BooleanField()
    default_rate = serializers.CharField()
    rates = TaxRateOutput(many=True)
    category_overrides = CategoryRateOutput(many=True)


# --- Discounts ------------------------------------------------------------------------------


class AppliesToInput(serializers.Serializer):
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=500,
        required=False,
        default=list,
    )
    categories = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=500,
        required=False,
        default=list,
    )


class DiscountUpdateInput(serializers.Serializer):
    code = StrictRegexField(
        r"^[A-Za-z0-9_-]{1,64}$", required=False, allow_null=True,
        help_text="Letters, digits, - and _; matched without regard to case. Leave out (or null) for an "
        "automatic promotion.",
    )  # fmt: skip
    kind = serializers.ChoiceField(choices=Discount.Kind.choices, required=False)
    value = AmountInputField(
        required=False,
        allow_null=True,
        help_text="Percent for `percentage` (up to 100), the amount for `fixed`.",
    )
    applies_to = AppliesToInput(required=False, help_text="Products and categories; empty: the whole order.")
    min_subtotal = AmountInputField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    usage_limit = serializers.IntegerField(
        min_value=1, max_value=1_000_000_000, required=False, allow_null=True
    )
    usage_limit_per_customer = serializers.IntegerField(
        min_value=1, max_value=1_000_000_000, required=False, allow_null=True
    )
    active = StrictBooleanField(required=False)


class DiscountInput(DiscountUpdateInput):
    kind = serializers.ChoiceField(choices=Discount.Kind.choices)


def discount_fields_check(merged: dict[str, Any]) -> None:
    """The rules across fields, on the discount as it would be after the write."""
    kind, value = merged.get("kind"), merged.get("value")
    if kind in ("percentage", "fixed") and (value is None or value <= 0):
        raise serializers.ValidationError({"value": ["Required, above 0, for this kind."]})
    if kind == "percentage" and value is not None and value > 100:
        raise serializers.ValidationError({"value": ["A percentage is at most 100."]})
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise serializers.ValidationError({"ends_at": ["After starts_at."]})


class AppliesToOutput(serializers.Serializer):
    products = serializers.ListField(child=serializers.IntegerField(), source="product_ids")
    categories = serializers.ListField(child=serializers.IntegerField(), source="category_ids")


class DiscountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=Discount.Kind.choices)
    value = serializers.SerializerMethodField(
        method_name="value_text", help_text="Percent, or the amount off; null for free shipping."
    )
    applies_to = AppliesToOutput(source="*")
    min_subtotal = ShopMoneyField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    usage_limit = serializers.IntegerField(allow_null=True)
    usage_limit_per_customer = serializers.IntegerField(allow_null=True)
    active = serializers.BooleanField()
    times_used = serializers.IntegerField(help_text="Checkouts that used it (never more than usage_limit).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field({"type": ["string", "null"]})
    def value_text(self, discount: Discount) -> str | None:
        if discount.value is None or discount.kind == Discount.Kind.FREE_SHIPPING:
            return None
        if discount.kind == Discount.Kind.FIXED:
            return str(Money(discount.value, self.context["currency"]).amount)
        return rate_text(Decimal(discount.value))


# --- The cart's choices and its breakdown ---------------------------------------------------


class ShippingMethodChoiceInput(serializers.Serializer):
    method = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class DiscountCodeInput(serializers.Serializer):
    code = StrictCharField(max_length=64)


class RegionOutput(serializers.Serializer):
    """An ISO 3166-2 subdivision of a country, as addresses and tax rates take it."""

    code = serializers.CharField(help_text="The part after the dash (CA of US-CA): what `region` takes.")
    name = serializers.CharField()
    type = serializers.CharField(help_text="What the country calls it: State, Province, Land...")


class ShippingOfferOutput(serializers.Serializer):
    """A method the cart can ship with, priced for its contents."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    price = MoneyField()
    min_days = serializers.IntegerField(allow_null=True)
    max_days = serializers.IntegerField(allow_null=True)
    pickup = serializers.BooleanField()


class TotalsOutput(serializers.Serializer):
    """subtotal - discount + shipping (+ tax, unless prices include it) = total."""

    subtotal = MoneyField()
    shipping = MoneyField()
    discount = MoneyField()
    tax = MoneyField()
    total = MoneyField()


class TaxLineOutput(serializers.Serializer):
    name = serializers.CharField()
    rate = serializers.CharField(help_text="Percent, as a decimal string.")
    amount = MoneyField()


class AppliedDiscountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_null=True, help_text="null for an automatic promotion.")
    kind = serializers.ChoiceField(choices=Discount.Kind.choices)
    value = serializers.CharField()
    amount = MoneyField()


class QuotedMethodOutput(ShippingOfferOutput):
    tax_rate = serializers.CharField(required=False, help_text="On orders: the rate its price was taxed at.")
    tax_name = serializers.CharField(required=False)
